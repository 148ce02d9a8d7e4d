"""Bearer JWT authentication (DESIGN §8): OIDC access tokens verified against the provider's JWKS;
development tokens (HS256, a local secret) only while the settings say development."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from pydantic import BaseModel, ConfigDict

from events.store import Actor
from services.settings import Settings


class Role(StrEnum):
    TASKFORCE = "taskforce"
    COORDINATOR = "coordinator"
    PARTNER = "partner"
    AUDITOR = "auditor"
    MINISTRY = "ministry"
    ADMIN = "admin"


# When a token carries several roles, the most capable decides.
_ROLE_PRECEDENCE = (Role.COORDINATOR, Role.TASKFORCE, Role.ADMIN, Role.AUDITOR, Role.PARTNER, Role.MINISTRY)
DEVELOPMENT_ALGORITHM = "HS256"


class AuthenticationError(Exception):
    """No token, or a token that does not verify."""


class IdentityProviderUnavailableError(Exception):
    """The OIDC provider's key set could not be fetched."""


class Principal(BaseModel):
    """The authenticated caller."""

    model_config = ConfigDict(frozen=True)

    sub: str
    org: str
    roles: frozenset[Role]

    @property
    def role(self) -> Role:
        return next(role for role in _ROLE_PRECEDENCE if role in self.roles)

    def as_actor(self) -> Actor:
        return Actor(sub=self.sub, org=self.org, role=self.role.value)


def mint_token(settings: Settings, *, role: Role, org: str, sub: str) -> str:
    """A development token; production tokens come from the OIDC provider."""
    secret = settings.development_secret
    if secret is None:
        raise AuthenticationError("development tokens exist only in development")
    now = datetime.now(UTC)
    claims = {
        "sub": sub,
        "org": org,
        "roles": [role.value],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=settings.token_ttl_hours),
    }
    return jwt.encode(claims, secret, algorithm=DEVELOPMENT_ALGORITHM)


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted claim path (`realm_access.roles`), or None."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def principal_from(claims: dict[str, Any], roles_claim: str = "roles", org_claim: str = "org") -> Principal:
    """The caller a verified token names; roles this service does not know are ignored."""
    raw_roles = claim_at(claims, roles_claim)
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    known = {role.value for role in Role}
    roles = frozenset(Role(r) for r in raw_roles or [] if isinstance(r, str) and r in known)
    org = claim_at(claims, org_claim)
    if not roles or not isinstance(org, str) or not org:
        raise AuthenticationError("the token has no known role or no organisation")
    return Principal(sub=str(claims["sub"]), org=org, roles=roles)


def verify_development_token(settings: Settings, token: str) -> Principal:
    """A development token; refused outside development whatever its signature."""
    return principal_from(development_claims(settings, token))


def development_claims(settings: Settings, token: str) -> dict[str, Any]:
    """The verified claims of a development token; refused outside development whatever its signature."""
    secret = settings.development_secret
    if secret is None:
        raise AuthenticationError("development tokens are not accepted")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[DEVELOPMENT_ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise AuthenticationError(f"invalid token: {error}") from error
    return claims


def verify_token(settings: Settings, token: str) -> Principal:
    """The principal a token names, verified by this process's verifier for these settings."""
    from services.oidc import verifier_for  # services.oidc builds on this module

    return verifier_for(settings).verify(token)
