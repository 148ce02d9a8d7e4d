"""OpenTelemetry tracing across API → Temporal → activity, when an OTLP endpoint is configured.

Off unless `GROEIRUIMTE_OTEL_EXPORTER_OTLP_ENDPOINT` (or the standard `OTEL_EXPORTER_OTLP_ENDPOINT`) is set:
then nothing is instrumented and no interceptor is added. When on, each process exports its spans in
batches over OTLP/HTTP as service `<otel_service_name>-<process>`; the FastAPI instrumentation opens the
HTTP span, and Temporal's TracingInterceptor carries the context through the update into the workflow
and its activities (client and worker, as the worker is built on the same client).
"""

import opentelemetry.trace
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

from services.settings import Settings

# Probes and scrapes every few seconds would drown the traces that matter.
UNTRACED_PATHS = r"/(healthz|livez|readyz|metrics)(\?|$)"


def tracing_enabled(settings: Settings) -> bool:
    return bool(settings.otel_exporter_otlp_endpoint)


def traces_url(settings: Settings) -> str:
    """The OTLP/HTTP traces URL: the configured base URL with /v1/traces, as the OTLP spec says."""
    base = settings.otel_exporter_otlp_endpoint.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def start_tracing(settings: Settings, process: str) -> TracerProvider | None:
    """This process's tracer provider (the global one), exporting to the endpoint; None when tracing is off.

    Call `shutdown()` on it when the process stops, so the last batch is sent.
    """
    if not tracing_enabled(settings):
        return None
    resource = Resource.create({SERVICE_NAME: f"{settings.otel_service_name}-{process}"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(settings))))
    opentelemetry.trace.set_tracer_provider(provider)
    return provider


def temporal_interceptors(settings: Settings) -> list[Interceptor]:
    """For `Client.connect`: a worker built on that client traces its workflows and activities too."""
    return [TracingInterceptor()] if tracing_enabled(settings) else []


def instrument_app(app: FastAPI, settings: Settings) -> None:
    """HTTP server spans for the API, the outermost layer, so the edge sees the trace id."""
    if tracing_enabled(settings):
        FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_PATHS)
