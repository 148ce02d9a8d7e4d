"""Connecting to Temporal with the pydantic data converter, payloads encrypted (services/payload_codec.py),
TLS and an API key or mTLS client certificate for Temporal Cloud (services/temporal_settings.py), tracing
when an exporter is configured (services/tracing.py), and, when configured, SDK metrics."""

from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client, TLSConfig
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from services.log_masking import register_secrets
from services.payload_codec import EncryptionCodec, encrypting_converter
from services.settings import Settings
from services.tracing import temporal_interceptors


class TemporalConfigurationError(ValueError):
    """A file the Temporal connection settings name cannot be read."""


class TemporalConnectionError(RuntimeError):
    """Temporal cannot be reached with these settings; says how this process tried (never the key)."""


@dataclass(frozen=True)
class ConnectArguments:
    """What `Client.connect` gets besides the converter, interceptors and runtime."""

    target_host: str
    namespace: str
    api_key: str | None = None
    tls: bool | TLSConfig = False
    rpc_metadata: dict[str, str] = field(default_factory=dict)


def payload_codec(settings: Settings) -> EncryptionCodec:
    return EncryptionCodec(settings.payload_key_bytes(), settings.payload_key_id)


def data_converter(settings: Settings) -> DataConverter:
    """What every client, worker and replayer of this system converts payloads with."""
    return encrypting_converter(payload_codec(settings))


def connect_arguments(settings: Settings) -> ConnectArguments:
    """Address, namespace and credentials: plaintext for the dev server, TLS with an API key or mTLS for
    Temporal Cloud. An API key also names the namespace in the metadata, as regional endpoints need."""
    api_key = settings.temporal_api_key_value
    return ConnectArguments(
        target_host=settings.temporal_address,
        namespace=settings.temporal_namespace,
        api_key=api_key,
        tls=tls_config(settings),
        rpc_metadata={"temporal-namespace": settings.temporal_namespace} if api_key else {},
    )


def tls_config(settings: Settings) -> bool | TLSConfig:
    """False (plaintext), True (TLS, system roots) or a TLSConfig with the configured files and name."""
    if not settings.temporal_uses_tls:
        return False
    ca = settings.temporal_tls_server_ca_path
    if not (settings.temporal_uses_mtls or ca or settings.temporal_tls_server_name):
        return True
    return TLSConfig(
        server_root_ca_cert=_read(ca, "TLS_SERVER_CA_PATH") if ca else None,
        domain=settings.temporal_tls_server_name or None,
        client_cert=_read(settings.temporal_tls_client_cert_path, "TLS_CLIENT_CERT_PATH"),
        client_private_key=_read(settings.temporal_tls_client_key_path, "TLS_CLIENT_KEY_PATH"),
    )


def _read(path: str, setting: str) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise TemporalConfigurationError(
            f"GROEIRUIMTE_TEMPORAL_{setting} {path} cannot be read: {error.strerror}"
        ) from error


def _runtime(settings: Settings) -> Runtime | None:
    """A runtime exporting the Temporal SDK's own metrics for Prometheus, when an address is set."""
    if not settings.temporal_metrics_address:
        return None
    metrics = PrometheusConfig(bind_address=settings.temporal_metrics_address)
    return Runtime(telemetry=TelemetryConfig(metrics=metrics))


async def connect_temporal(settings: Settings) -> Client:
    arguments = connect_arguments(settings)
    register_secrets([arguments.api_key])  # never in a log line
    try:
        return await Client.connect(
            arguments.target_host,
            namespace=arguments.namespace,
            api_key=arguments.api_key,
            tls=arguments.tls,
            rpc_metadata=arguments.rpc_metadata,
            data_converter=data_converter(settings),
            interceptors=temporal_interceptors(settings),
            runtime=_runtime(settings),
        )
    except RuntimeError as error:
        # The SDK's message may hide a refused client certificate behind "connection closed".
        raise TemporalConnectionError(
            f"cannot connect to Temporal at {describe_connection(settings)}: {error}"
        ) from error


def describe_connection(settings: Settings) -> str:
    """Address, namespace, TLS and credentials as configured, for an operator reading an error."""
    how = [f"namespace {settings.temporal_namespace}"]
    if not settings.temporal_uses_tls:
        return f"{settings.temporal_address} ({how[0]}, plaintext)"
    ca = settings.temporal_tls_server_ca_path
    how.append(f"TLS with CA {ca}" if ca else "TLS with the system's CAs")
    if settings.temporal_tls_server_name:
        how.append(f"server name {settings.temporal_tls_server_name}")
    if settings.temporal_api_key_value:
        how.append("API key")
    elif settings.temporal_uses_mtls:
        how.append(f"client certificate {settings.temporal_tls_client_cert_path}")
    else:
        how.append("no client certificate or API key")
    return f"{settings.temporal_address} ({', '.join(how)})"
