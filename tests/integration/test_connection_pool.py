"""The connection pool keeps as many connections as requests run at once: none is set up per request."""

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event, text

from services.container import build_container
from services.persistence import engine as engine_module
from services.persistence.engine import create_engine, single_statements
from services.settings import Settings

pytestmark = pytest.mark.postgres


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


async def test_the_connection_returned_last_is_the_next_one_used(postgres_url: str) -> None:
    """LIFO: a light load keeps using the same few connections (and PostgreSQL backends), while the rest
    of the pool waits for a burst; FIFO would rotate every request through all of them."""
    engine = create_engine(postgres_url, pool_size=5)

    async def backend(connection: Any) -> int:
        pid: int = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        return pid

    try:
        async with engine.connect() as first, engine.connect() as second, engine.connect() as third:
            pids = [await backend(first), await backend(second), await backend(third)]
        # Returned in the order third, second, first (the context managers close in reverse).
        for _ in range(3):
            async with engine.connect() as connection:
                assert await backend(connection) == pids[0]
    finally:
        await engine.dispose()


async def test_the_pool_size_is_a_setting(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url, database_pool_size=3)
    container = await build_container(settings, with_temporal=False)
    try:
        assert container.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        await container.close()


async def test_a_pooled_connection_that_was_cut_is_replaced_before_it_is_used(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect():  # the pool's one connection again: cut it while checked out
            cutter = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
            await cutter.execute("SELECT pg_terminate_backend($1)", pid)
            await cutter.close()
        await asyncio.sleep(0.2)

        for reads in (engine, single_statements(engine)):
            async with reads.connect() as connection:
                new_pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                assert new_pid != pid
    finally:
        await engine.dispose()


async def test_a_connection_back_moments_ago_is_used_without_asking_and_an_idle_one_is_asked(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load a ping per checkout would be a round trip per query: only idle connections are asked."""
    engine = create_engine(postgres_url, pool_size=1)
    queries: list[str] = []
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            driver.add_query_logger(lambda record: queries.append(record.query))  # statements it runs itself
        for reads in (engine, single_statements(engine), engine):
            async with reads.connect() as connection:
                await connection.execute(text("SELECT 2"))
        assert "SELECT 1" not in queries

        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # idle long enough
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 2"))
        assert queries.count("SELECT 1") == 1
    finally:
        await engine.dispose()
