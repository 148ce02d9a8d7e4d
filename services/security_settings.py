"""The security part of the settings: OIDC, payload encryption keys and the HTTP edge (README: Security).

Development defaults work out of the box; `refuse_development_security` is what production checks.
"""

import base64
import binascii

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

DEVELOPMENT_PAYLOAD_KEY_ID = "development"
# A published key: payloads encrypted with it are as good as plaintext. Production refuses it.
DEVELOPMENT_PAYLOAD_KEY = "2grcAV+jB2TeR+jY077UsBQX9x7zW+Wjof77A6qzqGM="
# Asymmetric algorithms only: a shared-secret (HS*) or unsigned (none) token is never an OIDC token here.
ALLOWED_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "PS384", "PS512"})


class SecurityConfigurationError(ValueError):
    """The settings are not safe for the environment they are meant for."""


def decode_key(encoded: str) -> bytes:
    """An AES key from its base64 form; raises ValueError unless it is 128, 192 or 256 bits."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("a payload key must be base64") from error
    if len(key) not in (16, 24, 32):
        raise ValueError("a payload key must be 16, 24 or 32 bytes (base64-encoded)")
    return key


class SecuritySettings(BaseSettings):
    """Authentication, payload encryption and HTTP edge settings (prefix GROEIRUIMTE_)."""

    oidc_issuer: str = Field(default="", description="the provider's issuer URL; required in production")
    oidc_jwks_url: str = Field(default="", description="the provider's JWKS URL; required in production")
    oidc_audience: str = "groeiruimte"
    oidc_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256", "PS256"])
    oidc_roles_claim: str = Field(default="roles", description="dotted path, e.g. realm_access.roles")
    oidc_org_claim: str = "org"
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300)
    oidc_jwks_cache_seconds: int = Field(default=300, ge=10)
    # An unknown key id refetches the key set (key rotation), at most once per cooldown.
    oidc_jwks_refresh_cooldown_seconds: float = Field(default=10, ge=0)

    payload_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {DEVELOPMENT_PAYLOAD_KEY_ID: SecretStr(DEVELOPMENT_PAYLOAD_KEY)},
        description='JSON {"key-id": "<base64 AES key>"}: the active key and every older one still needed',
    )
    payload_key_id: str = DEVELOPMENT_PAYLOAD_KEY_ID

    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    rate_limit_enabled: bool = True
    rate_limit_per_token_per_minute: int = Field(default=300, ge=1)
    rate_limit_per_ip_per_minute: int = Field(default=600, ge=1)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="load balancers / ingress (IPs or CIDRs) whose X-Forwarded-For names the client; "
        "empty: the peer address is the client",
    )
    cors_origins: list[str] = Field(default_factory=list, description="empty: no cross-origin access")
    codec_cors_origins: list[str] = Field(default_factory=list, description="the Temporal UI's origin")
    codec_development_open: bool = Field(
        default=False,
        description="development only (`make run`): the dev server's Temporal UI, which has no sign-in, may "
        "decode without a token",
    )
    hsts_max_age_seconds: int = Field(default=31_536_000, ge=0)

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_only(cls, algorithms: list[str]) -> list[str]:
        refused = set(algorithms) - ALLOWED_ALGORITHMS
        if refused or not algorithms:
            raise ValueError(f"OIDC algorithms must be among {sorted(ALLOWED_ALGORITHMS)}")
        return algorithms

    @model_validator(mode="after")
    def _usable_payload_keys(self) -> "SecuritySettings":
        if self.payload_key_id not in self.payload_keys:
            raise ValueError(f"GROEIRUIMTE_PAYLOAD_KEY_ID {self.payload_key_id!r} is not in PAYLOAD_KEYS")
        for key in self.payload_keys.values():
            decode_key(key.get_secret_value())
        return self

    def payload_key_bytes(self) -> dict[str, bytes]:
        return {key_id: decode_key(key.get_secret_value()) for key_id, key in self.payload_keys.items()}

    def refuse_development_security(self, development_secret: bool) -> None:
        """Production: OIDC configured, not the development secret, not the development payload key."""
        problems = []
        if development_secret:
            problems.append("set GROEIRUIMTE_JWT_SECRET: the development secret is public")
        if not self.oidc_issuer or not self.oidc_jwks_url:
            problems.append("set GROEIRUIMTE_OIDC_ISSUER and GROEIRUIMTE_OIDC_JWKS_URL (OIDC provider)")
        if DEVELOPMENT_PAYLOAD_KEY_ID in self.payload_keys or any(
            key.get_secret_value() == DEVELOPMENT_PAYLOAD_KEY for key in self.payload_keys.values()
        ):
            problems.append("set GROEIRUIMTE_PAYLOAD_KEYS and _PAYLOAD_KEY_ID: the development key is public")
        if self.codec_development_open:
            problems.append("unset GROEIRUIMTE_CODEC_DEVELOPMENT_OPEN: the codec needs a token in production")
        if problems:
            raise SecurityConfigurationError("production refuses to start: " + "; ".join(problems))
