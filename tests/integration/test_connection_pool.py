"""The connection pool keeps as many connections as requests run at once: none is set up per request."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, text

from services.container import build_container
from services.settings import Settings
from tests.conftest import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    name, url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)


async def test_twenty_concurrent_readers_reuse_the_pools_connections(postgres_url: str) -> None:
    container = await build_container(Settings(database_url=postgres_url), with_temporal=False)
    connects: list[object] = []
    event.listen(container.engine.sync_engine, "connect", lambda *_: connects.append(object()))

    async def read() -> None:
        async with container.engine.connect() as connection:
            await connection.execute(text("SELECT pg_sleep(0.02)"))

    try:
        await asyncio.gather(*(read() for _ in range(20)))
        first_round = len(connects)
        for _ in range(3):
            await asyncio.gather(*(read() for _ in range(20)))
    finally:
        await container.close()

    assert first_round == 20
    assert len(connects) == first_round  # kept, not closed and opened again per request


async def test_the_pool_size_is_a_setting(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, database_pool_size=3)
    container = await build_container(settings, with_temporal=False)
    try:
        assert container.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        await container.close()
