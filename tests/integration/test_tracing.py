"""OpenTelemetry tracing, exported for real over OTLP/HTTP to a receiver in this test: one command's trace
runs from the HTTP request through the Temporal update and workflow into the append activity."""

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.auth import Role, mint_token
from services.container import Container
from services.lead_commands import LeadCommandService
from services.partners import PartnerRegistry
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from services.tracing import start_tracing, temporal_interceptors, tracing_enabled
from tests.fakes import RecordingNotifier
from tests.otlp_receiver import OtlpReceiver
from workflows.worker import build_worker

LEAD = {"company": {"name": "Spoorlijn Sensoren B.V."}, "owner_org": "bom", "home_region": "zuid"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    receiving = OtlpReceiver()
    receiving.start()
    yield receiving
    receiving.stop()


@pytest.fixture(scope="module")
def provider(receiver: OtlpReceiver) -> Iterator[TracerProvider]:
    """The process-wide tracer provider, as `groeiruimte api` and `worker` start it (set once per process)."""
    started = start_tracing(Settings(_env_file=None, otel_exporter_otlp_endpoint=receiver.url), "api")
    assert started is not None
    yield started
    started.shutdown()


@pytest.fixture
async def traced_api(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, provider: TracerProvider, receiver: OtlpReceiver
) -> AsyncIterator[httpx.AsyncClient]:
    """The API and a worker as the processes build them with tracing on: the app instrumented, the
    Temporal client (and so the worker on it) with the tracing interceptor."""
    queue = f"traced-{uuid.uuid4()}"
    settings = Settings(
        _env_file=None,
        otel_exporter_otlp_endpoint=receiver.url,
        temporal_task_queue=queue,
        command_timeout_seconds=20,
        rate_limit_enabled=False,
    )
    client = Client(**{**temporal_env.client.config(), "interceptors": temporal_interceptors(settings)})
    commands = LeadCommandService(client, store, settings)
    container = Container(settings, store.engine, store, client, commands, PartnerRegistry(store.engine))
    transport = httpx.ASGITransport(app=create_app(settings, container))
    token = mint_token(settings, role=Role.TASKFORCE, org="bom", sub="anna@bom.nl")
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        build_worker(client, queue, store, RecordingNotifier()),
        httpx.AsyncClient(transport=transport, base_url="http://api", headers=headers) as http,
    ):
        yield http


def test_tracing_is_off_without_an_endpoint() -> None:
    settings = Settings(_env_file=None, otel_exporter_otlp_endpoint="")
    assert not tracing_enabled(settings)
    assert start_tracing(settings, "api") is None
    assert temporal_interceptors(settings) == []


async def test_one_trace_runs_from_the_http_request_through_the_update_into_the_append_activity(
    traced_api: httpx.AsyncClient, provider: TracerProvider, receiver: OtlpReceiver, store: SqlEventStore
) -> None:
    response = await traced_api.post("/v1/leads", json=LEAD, headers={"Idempotency-Key": "traced-1"})
    assert response.status_code == 201, response.text
    assert provider.force_flush(10_000)

    spans = [span for _, span in receiver.spans]
    by_id = {span.span_id: span for span in spans}

    def parent(name: str) -> str:
        (span,) = [span for span in spans if span.name == name]
        assert span.trace_id == http.trace_id, f"{name} is in another trace"
        return by_id[span.parent_span_id].name

    (http,) = [span for span in spans if span.name == "POST /v1/leads"]
    assert http.kind == Span.SPAN_KIND_SERVER and not http.parent_span_id
    assert parent("StartUpdateWithStartWorkflow:LeadWorkflow") == "POST /v1/leads"
    for name in ("RunWorkflow:LeadWorkflow", "HandleUpdate:execute", "StartActivity:append_events"):
        assert parent(name) == "StartUpdateWithStartWorkflow:LeadWorkflow"
    assert parent("RunActivity:append_events") == "StartActivity:append_events"
    assert set(receiver.paths) == {"/v1/traces"}
    assert {resource["service.name"] for resource, _ in receiver.spans} == {"groeiruimte-api"}

    # The trace id is the correlation id: in the response, and in the event's metadata.
    trace_id = http.trace_id.hex()
    assert response.headers["X-Correlation-ID"] == trace_id
    (event,) = await store.read_all(limit=10)
    assert event.metadata.correlation_id == trace_id
