"""Where and how to connect to Temporal: a self-hosted frontend, or Temporal Cloud with an API key or mTLS
(docs/operations.md: Temporal Cloud). Part of the one Settings object (prefix GROEIRUIMTE_)."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

# Endpoints of Temporal Cloud: a namespace endpoint, or a regional one for API keys.
CLOUD_HOST_SUFFIXES = (".tmprl.cloud", ".api.temporal.io")


class TemporalSettings(BaseSettings):
    """The Temporal frontend and its credentials; empty values mean "not used"."""

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_api_key: SecretStr | None = Field(
        default=None, description="Temporal Cloud API key (a secret); implies TLS"
    )
    temporal_tls: bool = Field(default=False, description="TLS without credentials; on with a key or cert")
    temporal_tls_client_cert_path: str = Field(default="", description="mTLS client certificate (PEM)")
    temporal_tls_client_key_path: str = Field(default="", description="mTLS client private key (PEM)")
    temporal_tls_server_ca_path: str = Field(default="", description="CA to verify the server; empty: system")
    temporal_tls_server_name: str = Field(default="", description="server name to verify, when not the host")

    @property
    def temporal_api_key_value(self) -> str | None:
        """The API key, or None when none is set (an empty variable counts as none)."""
        key = self.temporal_api_key.get_secret_value() if self.temporal_api_key else ""
        return key or None

    @property
    def temporal_uses_mtls(self) -> bool:
        return bool(self.temporal_tls_client_cert_path or self.temporal_tls_client_key_path)

    @property
    def temporal_uses_tls(self) -> bool:
        return self.temporal_tls or self.temporal_uses_mtls or self.temporal_api_key_value is not None

    @property
    def temporal_is_cloud(self) -> bool:
        host = self.temporal_address.rpartition(":")[0] or self.temporal_address
        return host.endswith(CLOUD_HOST_SUFFIXES)

    def temporal_connection_problems(self, production: bool) -> list[str]:
        """What is inconsistent about the connection settings; in production also missing files."""
        problems = []
        cert, key = self.temporal_tls_client_cert_path, self.temporal_tls_client_key_path
        if bool(cert) != bool(key):
            problems.append(
                "set both GROEIRUIMTE_TEMPORAL_TLS_CLIENT_CERT_PATH and _TLS_CLIENT_KEY_PATH (mTLS), "
                "or neither"
            )
        if self.temporal_api_key_value and self.temporal_uses_mtls:
            problems.append(
                "choose one way to authenticate to Temporal: GROEIRUIMTE_TEMPORAL_API_KEY or mTLS"
            )
        if (self.temporal_tls_server_ca_path or self.temporal_tls_server_name) and not self.temporal_uses_tls:
            problems.append(
                "GROEIRUIMTE_TEMPORAL_TLS_SERVER_CA_PATH and _TLS_SERVER_NAME need TLS: "
                "set GROEIRUIMTE_TEMPORAL_TLS=true (or an API key or client certificate)"
            )
        if production:
            problems += self._production_problems()
        return problems

    def _production_problems(self) -> list[str]:
        problems = []
        if self.temporal_is_cloud and not (self.temporal_api_key_value or self.temporal_uses_mtls):
            problems.append(
                f"{self.temporal_address} is Temporal Cloud: set GROEIRUIMTE_TEMPORAL_API_KEY, or "
                "GROEIRUIMTE_TEMPORAL_TLS_CLIENT_CERT_PATH and _TLS_CLIENT_KEY_PATH"
            )
        if self.temporal_is_cloud and self.temporal_namespace == "default":
            problems.append(
                "set GROEIRUIMTE_TEMPORAL_NAMESPACE to the Temporal Cloud namespace (name.account)"
            )
        for name, path in (
            ("TLS_CLIENT_CERT_PATH", self.temporal_tls_client_cert_path),
            ("TLS_CLIENT_KEY_PATH", self.temporal_tls_client_key_path),
            ("TLS_SERVER_CA_PATH", self.temporal_tls_server_ca_path),
        ):
            if path and not Path(path).is_file():
                problems.append(f"GROEIRUIMTE_TEMPORAL_{name} {path} is not a readable file")
        return problems
