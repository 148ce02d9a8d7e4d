"""Connecting to Temporal with the pydantic data converter, payloads encrypted (services/payload_codec.py),
and, when configured, SDK metrics."""

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from services.payload_codec import EncryptionCodec, encrypting_converter
from services.settings import Settings


def payload_codec(settings: Settings) -> EncryptionCodec:
    return EncryptionCodec(settings.payload_key_bytes(), settings.payload_key_id)


def data_converter(settings: Settings) -> DataConverter:
    """What every client, worker and replayer of this system converts payloads with."""
    return encrypting_converter(payload_codec(settings))


def _runtime(settings: Settings) -> Runtime | None:
    """A runtime exporting the Temporal SDK's own metrics for Prometheus, when an address is set."""
    if not settings.temporal_metrics_address:
        return None
    metrics = PrometheusConfig(bind_address=settings.temporal_metrics_address)
    return Runtime(telemetry=TelemetryConfig(metrics=metrics))


async def connect_temporal(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=_runtime(settings),
    )
