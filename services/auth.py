"""Bearer JWT authentication: development tokens signed with a local secret (DESIGN §8)."""

from datetime import UTC, datetime, timedelta
from enum import StrEnum

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


class AuthenticationError(Exception):
    """No token, or a token that does not verify."""


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
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def verify_token(settings: Settings, token: str) -> Principal:
    """The principal a token names; raises AuthenticationError when it does not verify."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "exp", "iss", "aud"]},
        )
        roles = frozenset(Role(role) for role in claims.get("roles", []))
        if not roles or not isinstance(claims.get("org"), str):
            raise AuthenticationError("the token has no roles or no organisation")
        return Principal(sub=str(claims["sub"]), org=claims["org"], roles=roles)
    except (jwt.PyJWTError, ValueError) as error:
        raise AuthenticationError(f"invalid token: {error}") from error
