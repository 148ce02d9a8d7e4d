"""The token verifier the API uses: OIDC access tokens against the provider's JWKS, development tokens
only in development.

The key set is cached (`oidc_jwks_cache_seconds`); a token signed with a key id the cache lacks makes
PyJWKClient fetch the set again (key rotation), at most once per `oidc_jwks_refresh_cooldown_seconds`
so that made-up key ids cannot hammer the provider.

A token once verified is taken as verified again for up to VERIFIED_SECONDS (never past its expiry), so a
client's requests do not each pay for checking its signature (a tenth of a simple read's time). Whatever
the key set the verification used stops holding — fetched again, or expired in the cache — drops them all:
a key the provider withdraws is refused as soon as it would be without them.
"""

import time
from collections import OrderedDict

import jwt
from jwt import PyJWKClient

from services.auth import (
    DEVELOPMENT_ALGORITHM,
    AuthenticationError,
    IdentityProviderUnavailableError,
    Principal,
    development_claims,
    principal_from,
)
from services.settings import Settings

JWKS_TIMEOUT_SECONDS = 5.0
REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud"]
VERIFIED_SECONDS = 30.0
VERIFIED_TOKENS = 10_000


class UnknownUserError(AuthenticationError):
    """A valid provider token for someone without a role or organisation this service knows."""


class TokenVerifier:
    """Verifies bearer tokens; built once per process (it holds the JWKS cache). No I/O until used."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._jwks = _jwks_client(settings) if settings.oidc_jwks_url else None
        self._verified = _VerifiedTokens()

    def verify(self, token: str) -> Principal:
        """The principal the token names; raises AuthenticationError when it does not verify."""
        self._verified.keep_only_for(self._key_set())
        if (known := self._verified.get(token)) is not None:
            return known
        principal, expires_at = self._verify(token)
        self._verified.put(token, principal, expires_at)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as error:
            raise AuthenticationError("the bearer token is not a JWT") from error
        if algorithm == DEVELOPMENT_ALGORITHM:
            claims = development_claims(self._settings, token)
            return principal_from(claims), float(claims["exp"])
        return self._verify_oidc(token)

    def _verify_oidc(self, token: str) -> tuple[Principal, float]:
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
            principal = principal_from(claims, settings.oidc_roles_claim, settings.oidc_org_claim)
        except AuthenticationError as error:
            raise UnknownUserError(str(error)) from error
        return principal, float(claims["exp"])

    def _key_set(self) -> object | None:
        """The provider's key set as cached now (None when none is, or without a provider)."""
        cache = self._jwks.jwk_set_cache if self._jwks is not None else None
        return None if cache is None else cache.get()


class _VerifiedTokens:
    """Tokens verified recently, each until VERIFIED_SECONDS after or its expiry, whichever is first;
    all of them only as long as the key set they were verified with is the one in use."""

    def __init__(self) -> None:
        self._tokens: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._key_set: object | None = None

    def keep_only_for(self, key_set: object | None) -> None:
        if key_set is not self._key_set:
            self._tokens.clear()
            self._key_set = key_set

    def get(self, token: str) -> Principal | None:
        known = self._tokens.get(token)
        if known is None:
            return None
        if known[1] <= time.time():
            del self._tokens[token]
            return None
        return known[0]

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        self._tokens[token] = (principal, min(time.time() + VERIFIED_SECONDS, expires_at))
        while len(self._tokens) > VERIFIED_TOKENS:
            self._tokens.popitem(last=False)


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
