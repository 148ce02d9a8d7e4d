"""Fixtures for integration tests: Temporal's time-skipping test server, a SQLite store, a worker."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.binaries import find_binary
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.persistence.migrate import upgrade_database
from workflows.worker import build_worker


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
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
async def worker(temporal_env: WorkflowEnvironment, store: SqlEventStore) -> AsyncIterator[Worker]:
    queue = f"leads-{uuid.uuid4()}"
    async with build_worker(temporal_env.client, queue, store) as running:
        yield running
