"""OIDC access tokens verified against a local provider's JWKS (real HTTP on 127.0.0.1), key rotation,
the algorithm allow-list, and production's refusal of development secrets."""

import base64
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError

from services.api.app import create_app
from services.auth import AuthenticationError, IdentityProviderUnavailableError, Role, mint_token
from services.container import Container
from services.oidc import TokenVerifier
from services.partners import PartnerRegistry
from services.persistence.event_store import SqlEventStore
from services.settings import DEVELOPMENT_SECRET, Settings
from tests.oidc_keys_provider import AUDIENCE, ISSUER, LocalProvider, new_key, running_provider

PRODUCTION_KEY = base64.b64encode(os.urandom(32)).decode()


def production(provider: LocalProvider, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "production",
        "oidc_issuer": ISSUER,
        "oidc_jwks_url": provider.jwks_url,
        "oidc_audience": AUDIENCE,
        "oidc_roles_claim": "realm_access.roles",
        "oidc_jwks_refresh_cooldown_seconds": 0,
        "payload_keys": {"2026-1": PRODUCTION_KEY},
        "payload_key_id": "2026-1",
        "jwt_secret": "production-cookie-secret-0123456789abcdef",
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with running_provider() as running:
        yield running


def test_an_oidc_token_names_the_caller_with_roles_from_the_configured_claim(provider: LocalProvider) -> None:
    verifier = TokenVerifier(production(provider))
    principal = verifier.verify(provider.token(roles=["taskforce", "offline_access"], org="bom"))
    assert (principal.org, principal.roles, principal.sub) == ("bom", frozenset({Role.TASKFORCE}), "user-bom")


def test_keys_are_cached_and_a_rotated_key_is_fetched_once(provider: LocalProvider) -> None:
    verifier = TokenVerifier(production(provider))
    old = provider.token(roles=["auditor"], org="nfia")
    for _ in range(3):
        verifier.verify(old)
    assert provider.fetches == 1
    provider.rotate()
    verifier.verify(provider.token(roles=["auditor"], org="nfia"))
    assert provider.fetches == 2
    with pytest.raises(AuthenticationError):
        verifier.verify(old)  # the old key is no longer published


def test_unknown_key_ids_refetch_at_most_once_per_cooldown(provider: LocalProvider) -> None:
    verifier = TokenVerifier(production(provider, oidc_jwks_refresh_cooldown_seconds=60))
    verifier.verify(provider.token(roles=["auditor"], org="nfia"))
    stranger = new_key()
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            verifier.verify(provider.token(roles=["auditor"], org="nfia", key=stranger))
    assert provider.fetches == 1


@pytest.mark.parametrize("algorithm", ["ES256", "PS256"])
def test_elliptic_curve_and_pss_keys_are_accepted(provider: LocalProvider, algorithm: str) -> None:
    key = provider.rotate("ES256" if algorithm == "ES256" else "RS256")
    key.algorithm = algorithm
    principal = TokenVerifier(production(provider)).verify(provider.token(roles=["ministry"], org="ez"))
    assert principal.roles == frozenset({Role.MINISTRY})


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 120},
        {"nbf": int(time.time()) + 24 * 3600},  # taken at collection: far enough ahead for a slow run
        {"aud": "another-api"},
        {"iss": "https://evil.example"},
        {"exp": None},
        {"sub": None},
        {"realm_access": {"roles": ["superuser"]}},
        {"org": None},
    ],
    ids=["expired", "not-yet-valid", "audience", "issuer", "no-expiry", "no-subject", "no-role", "no-org"],
)
def test_tokens_failing_a_check_are_refused(provider: LocalProvider, claims: dict[str, Any]) -> None:
    token = provider.token(**{"roles": ["taskforce"], "org": "bom", **claims})
    with pytest.raises(AuthenticationError):
        TokenVerifier(production(provider)).verify(token)


def test_algorithms_outside_the_allow_list_are_refused(provider: LocalProvider) -> None:
    verifier = TokenVerifier(production(provider, oidc_algorithms=["ES256"]))
    with pytest.raises(AuthenticationError):
        verifier.verify(provider.token(roles=["taskforce"], org="bom"))  # RS256
    unsigned = jwt.encode({"sub": "x", "org": "bom", "roles": ["admin"]}, key=None, algorithm="none")
    with pytest.raises(AuthenticationError):
        verifier.verify(unsigned)


def test_production_refuses_development_tokens_even_with_the_development_secret(
    provider: LocalProvider,
) -> None:
    development = Settings(_env_file=None)
    token = mint_token(development, role=Role.COORDINATOR, org="nfia", sub="eve")
    assert TokenVerifier(development).verify(token).role is Role.COORDINATOR
    with pytest.raises(AuthenticationError, match="development tokens are not accepted"):
        TokenVerifier(production(provider)).verify(token)
    forged = jwt.encode({"sub": "eve", "org": "nfia", "roles": ["coordinator"]}, DEVELOPMENT_SECRET)
    with pytest.raises(AuthenticationError):
        TokenVerifier(production(provider)).verify(forged)


def test_a_verified_token_is_not_checked_again_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)
    expires = int(time.time()) + 2
    claims = {"sub": "eve", "org": "nfia", "roles": ["coordinator"], "exp": expires}
    audience = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience}
    token = jwt.encode(claims | audience, DEVELOPMENT_SECRET)
    decode, checked = jwt.decode, []
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: checked.append(a) or decode(*a, **k))
    verifier = TokenVerifier(settings)

    assert [verifier.verify(token).sub for _ in range(5)] == ["eve"] * 5
    assert len(checked) == 1

    time.sleep(max(0.0, expires - time.time()) + 0.1)
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify(token)


def test_tokens_verified_with_a_withdrawn_key_are_refused_once_the_key_set_is_fetched_again(
    provider: LocalProvider,
) -> None:
    verifier = TokenVerifier(production(provider))
    old = provider.token(roles=["auditor"], org="nfia")
    verifier.verify(old)
    provider.rotate()  # the old key is withdrawn; the cached key set still holds it
    assert verifier.verify(old).org == "nfia"

    verifier.verify(provider.token(roles=["auditor"], org="nfia"))  # a new key id: the set is fetched again

    with pytest.raises(AuthenticationError):
        verifier.verify(old)


def test_an_unreachable_key_set_is_a_provider_outage_not_a_bad_token(provider: LocalProvider) -> None:
    verifier = TokenVerifier(production(provider, oidc_jwks_url="http://127.0.0.1:9/jwks"))
    with pytest.raises(IdentityProviderUnavailableError):
        verifier.verify(provider.token(roles=["taskforce"], org="bom"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"jwt_secret": DEVELOPMENT_SECRET}, "set GROEIRUIMTE_JWT_SECRET: the development secret is public"),
        ({"oidc_issuer": ""}, "set GROEIRUIMTE_OIDC_ISSUER and GROEIRUIMTE_OIDC_JWKS_URL"),
        ({"oidc_jwks_url": ""}, "set GROEIRUIMTE_OIDC_ISSUER and GROEIRUIMTE_OIDC_JWKS_URL"),
        ({"payload_keys": None, "payload_key_id": "development"}, "the development key is public"),
        ({"oidc_algorithms": ["HS256"]}, "OIDC algorithms must be among"),
        ({"codec_development_open": True}, "the codec needs a token in production"),
    ],
    ids=["development-secret", "no-issuer", "no-jwks", "development-payload-key", "hs256", "open-codec"],
)
def test_production_refuses_to_start_with_development_security(
    provider: LocalProvider, overrides: dict[str, Any], message: str
) -> None:
    overrides = {name: value for name, value in overrides.items() if value is not None}
    if "payload_keys" not in overrides and overrides.get("payload_key_id") == "development":
        overrides["payload_keys"] = {"development": "2grcAV+jB2TeR+jY077UsBQX9x7zW+Wjof77A6qzqGM="}
    with pytest.raises(ValidationError, match=message):
        production(provider, **overrides)


async def test_the_api_in_production_accepts_oidc_tokens_and_refuses_development_ones(
    provider: LocalProvider, store: SqlEventStore
) -> None:
    settings = production(provider)
    container = Container(settings, store.engine, store, None, None, PartnerRegistry(store.engine))
    transport = httpx.ASGITransport(app=create_app(settings, container))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        oidc = provider.token(roles=["ministry"], org="ministerie-ez")
        accepted = await client.get("/v1/monitoring/pipeline", headers={"Authorization": f"Bearer {oidc}"})
        development = mint_token(Settings(_env_file=None), role=Role.MINISTRY, org="ministerie-ez", sub="m")
        headers = {"Authorization": f"Bearer {development}"}
        refused = await client.get("/v1/monitoring/pipeline", headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
