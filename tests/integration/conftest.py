"""Fixtures for integration tests: Temporal's time-skipping test server, a SQLite store, a worker."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.api.app import create_app
from services.auth import Role, mint_token
from services.binaries import find_binary
from services.container import Container
from services.lead_commands import LeadCommandService
from services.partners import PartnerRegistry
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.persistence.migrate import upgrade_database
from services.projections.projector import Projector
from services.settings import Settings
from services.temporal import data_converter
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.fakes import RecordingNotifier
from workflows.worker import build_worker


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings()),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlEventStore]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'wf.db'}"
    await upgrade_database(url)
    engine = create_engine(url)
    yield SqlEventStore(engine)
    await engine.dispose()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
async def worker(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, notifier: RecordingNotifier
) -> AsyncIterator[Worker]:
    queue = f"leads-{uuid.uuid4()}"
    async with build_worker(temporal_env.client, queue, store, notifier) as running:
        yield running
    await _terminate_lead_workflows(temporal_env, store)


async def _terminate_lead_workflows(env: WorkflowEnvironment, store: SqlEventStore) -> None:
    """Leads left running keep their timers; on the shared time-skipping server they would slow
    every later test's skipped weeks, so each test's leads end with it."""
    stream_ids = {event.stream_id for event in await store.read_all(limit=100_000)}
    for stream_id in stream_ids:
        with contextlib.suppress(RPCError):
            await env.client.get_workflow_handle(stream_id).terminate("test finished")


class Api:
    """The real FastAPI app in-process over httpx, with a real worker on the time-skipping server."""

    def __init__(self, transport: httpx.ASGITransport, settings: Settings, store: SqlEventStore) -> None:
        self._transport = transport
        self.app = transport.app
        self.settings = settings
        self.store = store

    def as_(self, role: Role, org: str) -> httpx.AsyncClient:
        token = mint_token(self.settings, role=role, org=org, sub=f"{role.value}@{org}")
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(transport=self._transport, base_url="http://api", headers=headers)

    async def project(self) -> None:
        """Bring the read models up to date (the projector process does this in production)."""
        await Projector(self.store.engine).rebuild()


def _api(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, task_queue: str, command_timeout: float
) -> Api:
    settings = Settings(
        temporal_task_queue=task_queue, command_timeout_seconds=command_timeout, rate_limit_enabled=False
    )
    commands = LeadCommandService(temporal_env.client, store, settings)
    registry = PartnerRegistry(store.engine)
    container = Container(settings, store.engine, store, temporal_env.client, commands, registry)
    return Api(httpx.ASGITransport(app=create_app(settings, container)), settings, store)


@pytest.fixture
def api(temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker) -> Api:
    return _api(temporal_env, store, worker.task_queue, command_timeout=20)


@pytest.fixture
def api_without_worker(temporal_env: WorkflowEnvironment, store: SqlEventStore) -> Api:
    return _api(temporal_env, store, f"nobody-polls-{uuid.uuid4()}", command_timeout=1)


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database (not migrated), dropped afterwards."""
    name, url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)
