"""How the Temporal client connects: plaintext to a dev server or a cluster, TLS with an API key or mTLS
to Temporal Cloud, and a clear refusal of settings that do not fit together."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.client import TLSConfig
from typer.testing import CliRunner

from services.cli import app as cli
from services.settings import Settings
from services.temporal import TemporalConfigurationError, connect_arguments

CLOUD = "groeiruimte-prod.a1b2c.tmprl.cloud:7233"
NAMESPACE = "groeiruimte-prod.a1b2c"
PRODUCTION = {
    "environment": "production",
    "jwt_secret": "a-real-secret-for-production-0123456789abcdef",
    "oidc_issuer": "https://login.example.nl/realms/groeiruimte",
    "oidc_jwks_url": "https://login.example.nl/realms/groeiruimte/certs",
    "payload_keys": {"2026-1": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
    "payload_key_id": "2026-1",
}


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.fixture
def pem_files(tmp_path: Path) -> dict[str, Path]:
    files = {name: tmp_path / f"{name}.pem" for name in ("cert", "key", "ca")}
    for name, path in files.items():
        path.write_bytes(f"-----BEGIN {name.upper()}-----\n".encode())
    return files


def test_the_development_server_gets_a_plaintext_connection_without_credentials() -> None:
    arguments = connect_arguments(settings())
    assert arguments.target_host == "127.0.0.1:7233"
    assert arguments.namespace == "default"
    assert arguments.tls is False
    assert arguments.api_key is None
    assert arguments.rpc_metadata == {}


def test_an_api_key_connects_over_tls_and_names_the_namespace_in_the_metadata() -> None:
    arguments = connect_arguments(
        settings(temporal_address=CLOUD, temporal_namespace=NAMESPACE, temporal_api_key="key-0123456789")
    )
    assert arguments.target_host == CLOUD
    assert arguments.namespace == NAMESPACE
    assert arguments.api_key == "key-0123456789"
    assert arguments.tls is True
    assert arguments.rpc_metadata == {"temporal-namespace": NAMESPACE}


def test_an_empty_api_key_variable_means_no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROEIRUIMTE_TEMPORAL_API_KEY", "")
    arguments = connect_arguments(settings())
    assert (arguments.api_key, arguments.tls) == (None, False)


def test_mtls_sends_the_client_certificate_and_key_and_verifies_the_server_with_the_given_ca(
    pem_files: dict[str, Path],
) -> None:
    arguments = connect_arguments(
        settings(
            temporal_address=CLOUD,
            temporal_namespace=NAMESPACE,
            temporal_tls_client_cert_path=str(pem_files["cert"]),
            temporal_tls_client_key_path=str(pem_files["key"]),
            temporal_tls_server_ca_path=str(pem_files["ca"]),
            temporal_tls_server_name="frontend.groeiruimte.example",
        )
    )
    assert arguments.tls == TLSConfig(
        server_root_ca_cert=b"-----BEGIN CA-----\n",
        domain="frontend.groeiruimte.example",
        client_cert=b"-----BEGIN CERT-----\n",
        client_private_key=b"-----BEGIN KEY-----\n",
    )
    assert arguments.api_key is None
    assert arguments.rpc_metadata == {}


def test_tls_without_credentials_verifies_a_self_hosted_frontend_with_its_own_ca(
    pem_files: dict[str, Path],
) -> None:
    assert connect_arguments(settings(temporal_tls=True)).tls is True
    arguments = connect_arguments(
        settings(temporal_tls=True, temporal_tls_server_ca_path=str(pem_files["ca"]))
    )
    assert arguments.tls == TLSConfig(server_root_ca_cert=b"-----BEGIN CA-----\n")


def test_an_unreadable_certificate_file_is_named_in_the_error(
    tmp_path: Path, pem_files: dict[str, Path]
) -> None:
    missing = tmp_path / "nowhere.pem"
    configured = settings(
        temporal_tls_client_cert_path=str(missing), temporal_tls_client_key_path=str(pem_files["key"])
    )
    with pytest.raises(
        TemporalConfigurationError, match=r"TLS_CLIENT_CERT_PATH .*nowhere\.pem cannot be read"
    ):
        connect_arguments(configured)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"temporal_tls_client_cert_path": "/certs/tls.crt"},
            "set both .*CLIENT_CERT_PATH and _TLS_CLIENT_KEY_PATH",
        ),
        (
            {"temporal_tls_client_key_path": "/certs/tls.key"},
            "set both .*CLIENT_CERT_PATH and _TLS_CLIENT_KEY_PATH",
        ),
        (
            {
                "temporal_api_key": "key-0123456789",
                "temporal_tls_client_cert_path": "/certs/tls.crt",
                "temporal_tls_client_key_path": "/certs/tls.key",
            },
            "choose one way to authenticate",
        ),
        ({"temporal_tls_server_ca_path": "/certs/ca.crt"}, "need TLS: set GROEIRUIMTE_TEMPORAL_TLS=true"),
        ({"temporal_tls_server_name": "frontend"}, "need TLS: set GROEIRUIMTE_TEMPORAL_TLS=true"),
    ],
)
def test_connection_settings_that_do_not_fit_together_are_refused(
    values: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_production_refuses_temporal_cloud_without_credentials_or_with_the_default_namespace() -> None:
    with pytest.raises(
        ValidationError, match="is Temporal Cloud: set GROEIRUIMTE_TEMPORAL_API_KEY"
    ) as refused:
        settings(**PRODUCTION, temporal_address="eu-west-1.aws.api.temporal.io:7233")
    assert "GROEIRUIMTE_TEMPORAL_NAMESPACE to the Temporal Cloud namespace" in str(refused.value)
    accepted = settings(
        **PRODUCTION, temporal_address=CLOUD, temporal_namespace=NAMESPACE, temporal_api_key="key-0123456789"
    )
    assert accepted.temporal_uses_tls


def test_production_refuses_certificate_files_that_are_not_there(pem_files: dict[str, Path]) -> None:
    with pytest.raises(ValidationError, match=r"TLS_CLIENT_KEY_PATH /certs/tls\.key is not a readable file"):
        settings(
            **PRODUCTION,
            temporal_address=CLOUD,
            temporal_namespace=NAMESPACE,
            temporal_tls_client_cert_path=str(pem_files["cert"]),
            temporal_tls_client_key_path="/certs/tls.key",
        )


def test_a_production_worker_with_inconsistent_temporal_settings_refuses_to_start_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("GROEIRUIMTE_DATABASE_URL", "GROEIRUIMTE_TEMPORAL_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    environment = {f"GROEIRUIMTE_{name.upper()}": str(value) for name, value in PRODUCTION.items()}
    environment["GROEIRUIMTE_PAYLOAD_KEYS"] = '{"2026-1": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}'
    environment |= {"GROEIRUIMTE_TEMPORAL_ADDRESS": CLOUD, "GROEIRUIMTE_TEMPORAL_NAMESPACE": NAMESPACE}
    environment["GROEIRUIMTE_TEMPORAL_TLS_CLIENT_CERT_PATH"] = "/var/run/secrets/temporal/tls.crt"

    result = CliRunner().invoke(cli, ["worker"], env=environment)

    assert result.exit_code == 2
    assert "groeiruimte refuses to start" in result.output
    assert "set both GROEIRUIMTE_TEMPORAL_TLS_CLIENT_CERT_PATH and _TLS_CLIENT_KEY_PATH" in result.output
    assert "key-0123456789" not in result.output
