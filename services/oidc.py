"""The token verifier the API uses: OIDC access tokens against the provider's JWKS, development tokens
only in development.

The key set is cached (`oidc_jwks_cache_seconds`); a token signed with a key id the cache lacks makes
PyJWKClient fetch the set again (key rotation), at most once per `oidc_jwks_refresh_cooldown_seconds`
so that made-up key ids cannot hammer the provider.
"""

import jwt
from jwt import PyJWKClient

from services.auth import (
    DEVELOPMENT_ALGORITHM,
    AuthenticationError,
    IdentityProviderUnavailableError,
    Principal,
    principal_from,
    verify_development_token,
)
from services.settings import Settings

JWKS_TIMEOUT_SECONDS = 5.0
REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud"]


class UnknownUserError(AuthenticationError):
    """A valid provider token for someone without a role or organisation this service knows."""


class TokenVerifier:
    """Verifies bearer tokens; built once per process (it holds the JWKS cache). No I/O until used."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._jwks = _jwks_client(settings) if settings.oidc_jwks_url else None

    def verify(self, token: str) -> Principal:
        """The principal the token names; raises AuthenticationError when it does not verify."""
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as error:
            raise AuthenticationError("the bearer token is not a JWT") from error
        if algorithm == DEVELOPMENT_ALGORITHM:
            return verify_development_token(self._settings, token)
        return self._verify_oidc(token)

    def _verify_oidc(self, token: str) -> Principal:
        settings = self._settings
        if self._jwks is None or not settings.oidc_issuer:
            raise AuthenticationError("no OIDC provider is configured")
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=settings.oidc_algorithms,
                audience=settings.oidc_audience,
                issuer=settings.oidc_issuer,
                leeway=settings.oidc_leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWKClientConnectionError as error:
            raise IdentityProviderUnavailableError("the identity provider's keys are unavailable") from error
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        try:
            return principal_from(claims, settings.oidc_roles_claim, settings.oidc_org_claim)
        except AuthenticationError as error:
            raise UnknownUserError(str(error)) from error


def _jwks_client(settings: Settings) -> PyJWKClient:
    return PyJWKClient(
        settings.oidc_jwks_url,
        cache_jwk_set=True,
        lifespan=settings.oidc_jwks_cache_seconds,
        timeout=JWKS_TIMEOUT_SECONDS,
        cooldown_duration=settings.oidc_jwks_refresh_cooldown_seconds,
    )


_VERIFIERS: dict[int, tuple[Settings, TokenVerifier]] = {}


def verifier_for(settings: Settings) -> TokenVerifier:
    """One verifier (and so one JWKS cache) per Settings object in this process."""
    known = _VERIFIERS.get(id(settings))
    if known is None or known[0] is not settings:
        known = (settings, TokenVerifier(settings))
        _VERIFIERS[id(settings)] = known
    return known[1]
