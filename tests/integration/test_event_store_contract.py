"""The event store's contract, one suite run against SQLite and PostgreSQL alike (DESIGN §4)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Executable, delete, event, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from events.errors import ConcurrencyError
from events.hashing import GENESIS_HASH, envelope_hash
from events.store import Actor, EventMetadata, NewEvent, StoredEvent
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.persistence.tables import events as events_table
from services.persistence.tables import log_head

METADATA = EventMetadata(
    actor=Actor(sub="user-1", org="oost", role="account_manager"),
    command_id="command-1",
    correlation_id="correlation-1",
    reason="contract test",
)
CET = timezone(timedelta(hours=1))
IMMUTABLE = "events are immutable"

postgres_only = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


def new_stream() -> str:
    return f"lead-{uuid4()}"


def new_event(text: str = "a note", event_type: str = "NoteAdded") -> NewEvent:
    return NewEvent(
        event_id=uuid4(),
        type=event_type,
        # Back-dated, not in UTC and with microseconds: all must survive the round trip.
        occurred_at=datetime(2025, 3, 4, 10, 15, 30, 123456, tzinfo=CET),
        data={"text": text, "amount_eur": 1250000.5, "tags": ["ai", "chips"], "nested": {"b": 1, "a": None}},
        metadata=METADATA,
    )


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(engine)
    yield store
    await store.close()


async def tamper(engine: AsyncEngine, statement: Executable) -> None:
    """Change the log behind the immutability triggers' back, as the database owner could."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # DISABLE TRIGGER ALL also disables ENABLE ALWAYS triggers; restore them as ALWAYS.
            await connection.execute(text("ALTER TABLE events DISABLE TRIGGER ALL"))
            await connection.execute(statement)
            await connection.execute(text("ALTER TABLE events ENABLE TRIGGER ALL"))
            for trigger in ("events_immutable_row", "events_immutable_truncate"):
                await connection.execute(text(f"ALTER TABLE events ENABLE ALWAYS TRIGGER {trigger}"))
            return
        triggers = (
            await connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'")
            )
        ).all()
        for name, _ in triggers:
            await connection.execute(text(f"DROP TRIGGER {name}"))
        await connection.execute(statement)
        for _, sql in triggers:
            await connection.execute(text(sql))


async def test_append_assigns_gap_free_positions_and_stream_versions(store: SqlEventStore) -> None:
    first, second = new_stream(), new_stream()

    await store.append(first, 0, [new_event("one"), new_event("two")])
    await store.append(second, 0, [new_event("three")])
    await store.append(first, 2, [new_event("four"), new_event("five")])

    log = await store.read_all()
    assert [event.position for event in log] == [1, 2, 3, 4, 5]
    assert [(event.stream_id, event.stream_version) for event in log] == [
        (first, 1),
        (first, 2),
        (second, 1),
        (first, 3),
        (first, 4),
    ]
    assert await store.stream_version(first) == 4
    assert await store.stream_version(second) == 1


async def test_stream_version_of_an_unknown_stream_is_zero(store: SqlEventStore) -> None:
    assert await store.stream_version(new_stream()) == 0
    assert await store.load_stream(new_stream()) == []


async def test_loaded_events_equal_appended_ones_with_aware_utc_times_and_json_dicts(
    store: SqlEventStore,
) -> None:
    stream = new_stream()
    event = new_event()

    appended = await store.append(stream, 0, [event])
    loaded = await store.load_stream(stream)

    assert loaded == appended
    stored = loaded[0]
    assert stored.occurred_at == event.occurred_at
    assert stored.occurred_at.utcoffset() == timedelta(0)
    assert stored.occurred_at.microsecond == 123456
    assert stored.recorded_at.utcoffset() == timedelta(0)
    assert stored.data == event.data
    assert stored.metadata == METADATA


async def test_append_with_stale_expected_version_raises_concurrency_error(store: SqlEventStore) -> None:
    stream = new_stream()
    await store.append(stream, 0, [new_event()])

    with pytest.raises(ConcurrencyError) as raised:
        await store.append(stream, 0, [new_event("too late")])

    assert (raised.value.expected_version, raised.value.actual_version) == (0, 1)
    assert [event.data["text"] for event in await store.read_all()] == ["a note"]


async def test_append_to_a_stream_ahead_of_its_version_raises_concurrency_error(
    store: SqlEventStore,
) -> None:
    with pytest.raises(ConcurrencyError):
        await store.append(new_stream(), 3, [new_event()])

    assert await store.read_all() == []


async def test_retried_append_with_same_event_ids_writes_nothing_and_returns_first_events(
    store: SqlEventStore,
) -> None:
    stream = new_stream()
    batch = [new_event("one"), new_event("two")]
    first = await store.append(stream, 0, batch)
    await store.append(stream, 2, [new_event("three")])

    retried = await store.append(stream, 0, batch)

    assert retried == first
    assert [event.position for event in await store.read_all()] == [1, 2, 3]


async def test_append_reusing_only_some_event_ids_raises_concurrency_error(store: SqlEventStore) -> None:
    stream = new_stream()
    done = new_event("one")
    await store.append(stream, 0, [done])

    with pytest.raises(ConcurrencyError):
        await store.append(stream, 1, [done, new_event("two")])

    assert [event.position for event in await store.read_all()] == [1]


async def test_concurrent_appends_to_one_stream_accept_exactly_one(store: SqlEventStore) -> None:
    stream = new_stream()
    await store.append(new_stream(), 0, [new_event("elsewhere")])

    results = await asyncio.gather(
        *(store.append(stream, 0, [new_event(f"attempt {n}")]) for n in range(6)), return_exceptions=True
    )

    winners = [result for result in results if isinstance(result, list)]
    losers = [result for result in results if isinstance(result, ConcurrencyError)]
    assert (len(winners), len(losers)) == (1, 5)
    await store.append(stream, 1, [new_event("next")])
    log = await store.read_all()
    assert [event.position for event in log] == [1, 2, 3]
    assert log[1] == winners[0][0]
    assert (await store.verify_chain()).ok


async def test_concurrent_appends_to_different_streams_keep_positions_gap_free_and_chained(
    store: SqlEventStore,
) -> None:
    streams = [new_stream() for _ in range(8)]

    await asyncio.gather(*(store.append(stream, 0, [new_event(), new_event()]) for stream in streams))

    log = await store.read_all()
    assert [event.position for event in log] == list(range(1, 17))
    assert [event.prev_hash for event in log] == [GENESIS_HASH] + [event.hash for event in log[:-1]]
    for stream in streams:
        assert [event.stream_version for event in await store.load_stream(stream)] == [1, 2]
    assert await store.verify_chain() == await store.verify_chain(batch_size=3)
    assert (await store.verify_chain()).verified == 16


async def test_load_stream_as_known_at_excludes_later_records(store: SqlEventStore) -> None:
    stream = new_stream()
    first = await store.append(stream, 0, [new_event("known then")])
    await asyncio.sleep(0.01)
    second = await store.append(stream, 1, [new_event("learnt later")])
    known_at = first[0].recorded_at

    assert await store.load_stream(stream, known_at=known_at) == first
    assert await store.load_stream(stream, known_at=known_at - timedelta(microseconds=1)) == []
    assert await store.load_stream(stream, known_at=second[0].recorded_at) == first + second


async def test_recorded_at_never_goes_backwards_even_when_the_clock_does(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    later_than_now = datetime.now(UTC) + timedelta(days=1)
    await store.append(new_stream(), 0, [new_event()])
    async with engine.begin() as connection:
        await connection.execute(update(log_head).values(last_recorded_at=later_than_now))

    appended = await store.append(new_stream(), 0, [new_event(), new_event()])

    assert [event.recorded_at for event in appended] == [later_than_now, later_than_now]
    recorded = [event.recorded_at for event in await store.read_all()]
    assert recorded == sorted(recorded)


async def test_read_all_pages_from_a_position(store: SqlEventStore) -> None:
    stream = new_stream()
    await store.append(stream, 0, [new_event(str(n)) for n in range(5)])

    assert [event.position for event in await store.read_all(after_position=2, limit=2)] == [3, 4]
    assert [event.position for event in await store.read_all(after_position=4)] == [5]
    assert await store.read_all(after_position=5) == []


async def test_hash_chain_links_every_event_to_its_predecessor(store: SqlEventStore) -> None:
    await store.append(new_stream(), 0, [new_event("one"), new_event("two")])
    await store.append(new_stream(), 0, [new_event("three")])

    log = await store.read_all()

    assert [event.prev_hash for event in log] == [GENESIS_HASH, log[0].hash, log[1].hash]
    assert [event.hash for event in log] == [recomputed_hash(event) for event in log]
    assert await store.verify_chain(batch_size=2) == await store.verify_chain()
    assert (await store.verify_chain()).model_dump() == {
        "verified": 3,
        "ok": True,
        "first_broken_position": None,
        "problem": None,
    }


def recomputed_hash(event: StoredEvent) -> str:
    return envelope_hash(
        position=event.position,
        event_id=str(event.event_id),
        stream_id=event.stream_id,
        stream_version=event.stream_version,
        event_type=event.type,
        schema_version=event.schema_version,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        data=event.data,
        metadata=event.metadata.model_dump(mode="json"),
        prev_hash=event.prev_hash,
    )


async def test_update_of_an_event_is_rejected_by_the_database(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    appended = await store.append(new_stream(), 0, [new_event("original")])

    with pytest.raises(DBAPIError, match=IMMUTABLE):
        async with engine.begin() as connection:
            await connection.execute(update(events_table).values(data={"text": "rewritten"}))

    assert await store.read_all() == appended


async def test_delete_of_an_event_is_rejected_by_the_database(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    appended = await store.append(new_stream(), 0, [new_event()])

    with pytest.raises(DBAPIError, match=IMMUTABLE):
        async with engine.begin() as connection:
            await connection.execute(delete(events_table))

    assert await store.read_all() == appended


async def test_verify_chain_finds_a_tampered_row(store: SqlEventStore, engine: AsyncEngine) -> None:
    stream = new_stream()
    await store.append(stream, 0, [new_event("one")])
    await store.append(new_stream(), 0, [new_event("two")])
    await store.append(stream, 1, [new_event("three")])

    await tamper(engine, update(events_table).where(events_table.c.position == 3).values(data={"x": 1}))

    whole_log = await store.verify_chain()
    assert (whole_log.ok, whole_log.verified, whole_log.first_broken_position) == (False, 2, 3)
    assert whole_log.problem == "hash does not match the event's content"
    one_stream = await store.verify_chain(stream)
    assert (one_stream.ok, one_stream.verified, one_stream.first_broken_position) == (False, 1, 3)


async def test_verify_chain_finds_a_deleted_event(store: SqlEventStore, engine: AsyncEngine) -> None:
    await store.append(new_stream(), 0, [new_event(str(n)) for n in range(4)])

    await tamper(engine, delete(events_table).where(events_table.c.position == 2))

    result = await store.verify_chain()
    assert (result.ok, result.verified, result.first_broken_position) == (False, 1, 3)


async def test_verify_chain_finds_events_cut_from_the_end(store: SqlEventStore, engine: AsyncEngine) -> None:
    await store.append(new_stream(), 0, [new_event(str(n)) for n in range(3)])

    await tamper(engine, delete(events_table).where(events_table.c.position == 3))

    result = await store.verify_chain()
    assert (result.ok, result.verified, result.first_broken_position) == (False, 2, 3)


@postgres_only
async def test_truncate_is_rejected(store: SqlEventStore, engine: AsyncEngine) -> None:
    appended = await store.append(new_stream(), 0, [new_event()])

    with pytest.raises(DBAPIError, match=IMMUTABLE):
        async with engine.begin() as connection:
            await connection.execute(text("TRUNCATE events"))

    assert await store.read_all() == appended


@postgres_only
@pytest.mark.parametrize(
    "statement", ["UPDATE events SET type = 'Rewritten'", "DELETE FROM events", "TRUNCATE events"]
)
async def test_triggers_fire_under_replica_replication_role(
    store: SqlEventStore, engine: AsyncEngine, statement: str
) -> None:
    appended = await store.append(new_stream(), 0, [new_event()])

    with pytest.raises(DBAPIError, match=IMMUTABLE):
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL session_replication_role = replica"))
            await connection.execute(text(statement))

    assert await store.read_all() == appended


@postgres_only
@pytest.mark.parametrize(
    "statement", ["UPDATE events SET type = 'Rewritten'", "DELETE FROM events", "TRUNCATE events"]
)
async def test_application_role_cannot_update_events(
    store: SqlEventStore, engine: AsyncEngine, statement: str
) -> None:
    appended = await store.append(new_stream(), 0, [new_event()])

    with pytest.raises(DBAPIError, match="permission denied for table events"):
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL ROLE groeiruimte_app"))
            await connection.execute(text(statement))

    assert await store.read_all() == appended


@postgres_only
async def test_application_role_can_append_read_and_verify(database_url: str) -> None:
    app_engine = create_engine(database_url, connect_args={"server_settings": {"role": "groeiruimte_app"}})
    try:
        store = SqlEventStore(app_engine)
        stream = new_stream()

        appended = await store.append(stream, 0, [new_event(), new_event()])

        assert await store.load_stream(stream) == appended
        assert (await store.verify_chain()).ok
        async with app_engine.connect() as connection:
            role: Any = await connection.scalar(text("SELECT current_user"))
        assert role == "groeiruimte_app"
        await store.close()
    finally:
        await app_engine.dispose()


@postgres_only
async def test_append_survives_its_connection_being_cut(store: SqlEventStore, engine: AsyncEngine) -> None:
    """The connection the store keeps for appends dies (a restart, a failover): the append still lands
    once, through the pool, and the next one reconnects."""
    stream = new_stream()
    first = await store.append(stream, 0, [new_event()])  # the careful way: the store learns the head
    first += await store.append(stream, 1, [new_event()])  # on the kept connection
    async with engine.connect() as connection:
        cut: Any = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert cut >= 1  # at least the store's own connection

    second = await store.append(stream, 2, [new_event()])
    third = await store.append(stream, 3, [new_event(), new_event()])

    assert await store.load_stream(stream) == first + second + third
    assert [event.stream_version for event in first + second + third] == [1, 2, 3, 4, 5]
    assert (await store.verify_chain()).ok


@postgres_only
async def test_concurrent_appends_of_one_process_chain_onto_each_other(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    """Twenty appends at once, as a busy worker's activities make them: each chains onto the head the
    one before it left, so none falls back to the careful path through the pool (which commits)."""
    await store.append(new_stream(), 0, [new_event()])  # the careful way: the store learns the head
    careful: list[object] = []

    def committed(connection: object) -> None:
        careful.append(connection)

    event.listen(engine.sync_engine, "commit", committed)
    try:
        streams = [new_stream() for _ in range(20)]
        appended = await asyncio.gather(*(store.append(stream, 0, [new_event()]) for stream in streams))
    finally:
        event.remove(engine.sync_engine, "commit", committed)

    assert careful == []
    assert sorted(stored.position for [stored] in appended) == list(range(2, 22))
    assert (await store.verify_chain()).ok
