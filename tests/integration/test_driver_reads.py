"""Hot reads on the driver (services/persistence/driver.py) answer what SQLAlchemy's path answers, fail
the way it fails, and leave the pool as they found it."""

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import Float, String, bindparam, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.persistence.driver import DriverStatement
from services.persistence.engine import create_engine, single_statements
from services.persistence.tables import person_keys


async def _person(engine: AsyncEngine, lead_id: UUID, key: bytes | None) -> None:
    row = {"person_id": uuid4(), "lead_id": lead_id, "key": key, "created_at": datetime.now(UTC)}
    async with engine.begin() as connection:
        await connection.execute(insert(person_keys).values(**row))


_LIVE_KEY = DriverStatement(
    select(person_keys.c.key, func.length(person_keys.c.key)).where(
        person_keys.c.lead_id == bindparam("lead_id"), person_keys.c.key.is_not(None)
    )
)


async def test_a_driver_read_answers_the_row_sqlalchemy_answers_on_either_database(
    engine: AsyncEngine,
) -> None:
    lead_id, other_lead, erased_only = uuid4(), uuid4(), uuid4()
    await _person(engine, lead_id, b"secret")
    await _person(engine, other_lead, b"another secret")
    await _person(engine, erased_only, None)

    async with single_statements(engine).connect() as connection:
        expected = (await connection.execute(_LIVE_KEY.statement, {"lead_id": lead_id})).first()
    found = await _LIVE_KEY.first(engine, {"lead_id": lead_id})

    assert expected is not None and found is not None
    assert tuple(found) == tuple(expected) == (b"secret", 6)
    assert await _LIVE_KEY.first(engine, {"lead_id": erased_only}) is None


@pytest.mark.postgres
async def test_a_driver_read_the_server_cuts_off_fails_as_a_database_error_and_the_next_one_works(
    postgres_url: str,
) -> None:
    """The API answers a DBAPIError as 503 database-unavailable; a bare driver error would be a 500."""
    engine = create_engine(postgres_url, pool_size=1)
    sleeping = DriverStatement(
        select(func.pg_backend_pid(), func.pg_sleep(bindparam("seconds", type_=Float)))
    )
    try:
        read = asyncio.create_task(sleeping.first(engine, {"seconds": 30}))
        cutter = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
        try:
            for _ in range(100):
                pids = await cutter.fetch("SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep%'"
                                          " AND pid <> pg_backend_pid()")  # fmt: skip
                if pids:
                    break
                await asyncio.sleep(0.05)
            await cutter.execute("SELECT pg_terminate_backend($1)", pids[0]["pid"])
        finally:
            await cutter.close()
        with pytest.raises(DBAPIError):
            await asyncio.wait_for(read, 10)

        row = await sleeping.first(engine, {"seconds": 0})
        assert row is not None and row[0] != pids[0]["pid"]  # a new connection in the pool's place
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_driver_read_leaves_no_transaction_open_on_the_pooled_connection(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    status = DriverStatement(select(func.txid_current_if_assigned(), bindparam("label", type_=String)))
    try:
        await status.first(engine, {"label": "first"})
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert not raw.driver_connection.is_in_transaction()
    finally:
        await engine.dispose()


_ADD_PERSON = DriverStatement(
    insert(person_keys).values(
        person_id=bindparam("person_id"),
        lead_id=bindparam("lead_id"),
        key=bindparam("key"),
        created_at=bindparam("created_at"),
    )
)


async def test_a_driver_write_is_committed_when_it_returns_and_a_refused_one_changes_nothing(
    engine: AsyncEngine,
) -> None:
    lead_id, person_id = uuid4(), uuid4()
    person = {"person_id": person_id, "lead_id": lead_id, "key": b"k1", "created_at": datetime.now(UTC)}

    await _ADD_PERSON.execute(engine, person)
    with pytest.raises(DBAPIError):  # the same person again: its primary key is taken
        await _ADD_PERSON.execute(engine, person | {"key": b"k2"})

    other = create_engine(str(engine.url.render_as_string(hide_password=False)))  # a reader of its own
    try:
        async with other.connect() as connection:
            keys = (
                await connection.execute(select(person_keys.c.key).where(person_keys.c.lead_id == lead_id))
            ).all()
    finally:
        await other.dispose()
    assert [row.key for row in keys] == [b"k1"]
