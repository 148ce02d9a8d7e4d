"""Connecting to Temporal with the pydantic data converter (and, when configured, SDK metrics)."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from services.settings import Settings


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
        data_converter=pydantic_data_converter,
        runtime=_runtime(settings),
    )
