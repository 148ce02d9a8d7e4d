"""Benchmark 1: events appended per second through SqlEventStore, against raw INSERTs of the same rows.

The store appends one event per transaction (as a command with one event does), then batches of 10.
The baseline inserts exactly the rows the store wrote — read back, byte for byte — into a copy of the
events table (`CREATE TABLE … (LIKE events INCLUDING ALL)`: same columns, keys and indexes) in the same
database, through the same driver, one transaction per row or per ten, with the same durability
(PostgreSQL `synchronous_commit = on`; SQLite WAL with `synchronous = FULL`, as the engine sets it).
Store and baseline alternate in rounds so background noise hits both alike.
"""

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiosqlite
import asyncpg  # type: ignore[import-untyped]

from bench.core import Result, Sizes
from bench.databases import Database, database_for
from bench.histories import SyntheticEvent, one_lead, synthetic_log
from events.store import EventMetadata, NewEvent
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore

ROUNDS = 5
SINGLE_GOAL = 0.6
STREAMS = 50
RAW_COLUMNS = (
    "position, event_id, stream_id, stream_version, type, schema_version, occurred_at, recorded_at, "
    "data, metadata, prev_hash, hash"
)

Append = tuple[str, int, list[NewEvent]]  # stream, expected version, events


async def run(kind: str, sizes: Sizes) -> list[Result]:
    """Single-event and ten-event appends on one database kind ("postgresql" or "sqlite")."""
    async with database_for(kind, "append") as database:
        raw = await RawInserter.open(database)
        engine = create_engine(database.url)
        store = SqlEventStore(engine)
        try:
            await _timed_rounds(store, raw, single_appends(sizes.warmup), [0.0, 0.0])
            single = await _timed_rounds(store, raw, single_appends(sizes.append_single, seed=1), [0.0, 0.0])
            batched = await _timed_rounds(store, raw, batch_appends(sizes.append_batches), [0.0, 0.0])
        finally:
            await store.close()
            await engine.dispose()
            await raw.close()
    single_goal = SINGLE_GOAL if kind == "postgresql" else None
    return [
        _result(f"append_single_{kind}", sizes.append_single, single, single_goal),
        _result(f"append_batch10_{kind}", sizes.append_batches * 10, batched, None),
    ]


def single_appends(count: int, seed: int = 0) -> list[Append]:
    """`count` appends of one event each, round-robin over a few dozen streams."""
    log = synthetic_log(leads=min(STREAMS, count), events=count, active=STREAMS, seed=seed)
    return [(event.stream_id, event.stream_version - 1, [new_event(event)]) for event in log]


def batch_appends(count: int) -> list[Append]:
    """`count` appends of ten events each: consecutive steps of a few leads of 100 events."""
    appends: list[Append] = []
    for lead in range((count + 9) // 10):
        history = one_lead(100, seed=1000 + lead)
        for start in range(0, 100, 10):
            chunk = history[start : start + 10]
            appends.append((chunk[0].stream_id, start, [new_event(event) for event in chunk]))
    return appends[:count]


def new_event(event: SyntheticEvent) -> NewEvent:
    return NewEvent(
        event_id=event.event_id,
        type=event.type,
        occurred_at=event.occurred_at,
        data=event.data,
        metadata=EventMetadata.model_validate(event.metadata),
    )


async def _timed_rounds(
    store: SqlEventStore,
    raw: "RawInserter",
    appends: Sequence[Append],
    seconds: list[float],
) -> list[float]:
    """Alternate store and raw inserts in rounds; adds their seconds to `seconds`."""
    size = max(len(appends) // ROUNDS, 1)
    for start in range(0, len(appends), size):
        chunk = appends[start : start + size]
        before = await raw.last_position()
        seconds[0] += await _timed(store.append, chunk)
        rows = await raw.written_after(before)
        per_append = len(rows) // len(chunk)
        groups = [rows[i : i + per_append] for i in range(0, len(rows), per_append)]
        seconds[1] += await _timed(raw.insert, [(group,) for group in groups])
    return seconds


async def _timed(call: Callable[..., Awaitable[Any]], arguments: Sequence[tuple[Any, ...]]) -> float:
    """Seconds to await `call` with each of the argument tuples, one after the other."""
    started = time.perf_counter()
    for each in arguments:
        await call(*each)
    return time.perf_counter() - started


def _result(name: str, events: int, seconds: list[float], goal: float | None) -> Result:
    store_rate, raw_rate = events / seconds[0], events / seconds[1]
    ratio = store_rate / raw_rate
    return Result(
        name=name,
        value=store_rate,
        unit="events/s",
        baseline=raw_rate,
        goal=f"ratio >= {goal}" if goal else "none",
        met=ratio >= goal if goal else None,
        details={"events": events, "store_seconds": seconds[0], "raw_seconds": seconds[1]},
    )


class RawInserter:
    """Raw INSERTs into `raw_events`, a structural copy of `events`, through the application's driver."""

    def __init__(self, kind: str, connection: Any) -> None:
        self.kind = kind
        self.connection = connection

    @classmethod
    async def open(cls, database: Database) -> "RawInserter":
        if database.kind == "postgresql":
            connection = await asyncpg.connect(database.raw)
            await connection.execute("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
            return cls("postgresql", connection)
        lite = await aiosqlite.connect(database.raw, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=30000"):
            await lite.execute(f"PRAGMA {pragma}")
        sql = await (await lite.execute("SELECT sql FROM sqlite_master WHERE name = 'events'")).fetchone()
        assert sql is not None
        await lite.execute(sql[0].replace("events", "raw_events", 1))
        return cls("sqlite", lite)

    async def last_position(self) -> int:
        return int(await self._value("SELECT coalesce(max(position), 0) FROM events"))

    async def written_after(self, position: int) -> list[tuple[Any, ...]]:
        """The rows the store wrote after `position`, exactly as stored."""
        query = f"SELECT {RAW_COLUMNS} FROM events WHERE position > {position} ORDER BY position"
        if self.kind == "postgresql":
            return [tuple(row) for row in await self.connection.fetch(query)]
        return list(await (await self.connection.execute(query)).fetchall())

    async def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """One transaction for these rows, committed durably; a single row is one implicit transaction."""
        if self.kind == "postgresql":
            statement = f"INSERT INTO raw_events ({RAW_COLUMNS}) VALUES ({_params(12, '$')})"
            if len(rows) == 1:
                await self.connection.execute(statement, *rows[0])
                return
            async with self.connection.transaction():
                await self.connection.executemany(statement, rows)
            return
        statement = f"INSERT INTO raw_events ({RAW_COLUMNS}) VALUES ({_params(12, '?')})"
        if len(rows) == 1:
            await self.connection.execute(statement, rows[0])
            return
        await self.connection.execute("BEGIN IMMEDIATE")
        await self.connection.executemany(statement, rows)
        await self.connection.execute("COMMIT")

    async def close(self) -> None:
        await self.connection.close()

    async def _value(self, query: str) -> Any:
        if self.kind == "postgresql":
            return await self.connection.fetchval(query)
        row = await (await self.connection.execute(query)).fetchone()
        return row[0] if row else None


def _params(count: int, style: str) -> str:
    return ", ".join(f"${i}" for i in range(1, count + 1)) if style == "$" else ", ".join("?" * count)
