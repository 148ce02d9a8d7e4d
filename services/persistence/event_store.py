"""The event store on SQLAlchemy Core, the same code for PostgreSQL and SQLite (DESIGN §4)."""

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Row, Select, Update, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.errors import ConcurrencyError
from events.hashing import GENESIS_HASH, envelope_hash
from events.store import NewEvent, StoredEvent
from services.persistence.tables import events as events_table
from services.persistence.tables import log_head
from services.persistence.types import UtcDateTime


class ChainVerification(BaseModel):
    """The outcome of walking the hash chain: how far it held, and where and why it broke."""

    model_config = ConfigDict(frozen=True)

    verified: int
    ok: bool
    first_broken_position: int | None = None
    problem: str | None = None


@dataclass(frozen=True)
class _Head:
    position: int
    hash: str
    recorded_at: datetime | None


class SqlEventStore:
    """Append-only, hash-chained event log; appends are serialised by a write to the one log_head row.

    The store remembers the head its last append left. The next append chains onto that head and
    writes only if the head row is still exactly that (one statement on PostgreSQL, on a connection the
    store keeps for it — `close()` gives it back; two statements on SQLite);
    when another appender moved it, or the stream is not where the caller expects, the append is
    done again the careful way: lock the head first, then check and write.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._head: _Head | None = None
        self._direct = _DirectAppender(engine) if engine.dialect.name == "postgresql" else None

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        """Give back the connection the store keeps for appends (before the engine is disposed)."""
        if self._direct is not None:
            await self._direct.close()

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[StoredEvent]:
        if not events:
            return []
        # Appends of this process take turns on the kept connection, each chaining onto the head the one
        # before it left: concurrent appends do not all start from the same head and then all but one
        # fall back to the careful path.
        async with self._direct.turn if self._direct is not None else contextlib.nullcontext():
            stored = await self._append_onto_head(stream_id, expected_version, events)
        return (
            stored if stored is not None else await self._append_locked(stream_id, expected_version, events)
        )

    async def _append_onto_head(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[StoredEvent] | None:
        """The one-statement append onto the remembered head; None when it did not write."""
        head = self._head
        if head is None:
            return None
        rows = _chain_rows(head, stream_id, expected_version, events)
        if not await self._append_onto(head, stream_id, expected_version, rows):
            return None
        self._remember(_head_after(rows[-1]))
        return [StoredEvent.model_validate(row) for row in rows]

    async def _append_onto(
        self, head: _Head, stream_id: str, expected_version: int, rows: list[dict[str, Any]]
    ) -> bool:
        """Write `rows` if the log head is still `head` and the stream at `expected_version`."""
        last = rows[-1]
        parameters = {
            "stream_id": stream_id,
            "expected_version": expected_version,
            "old_position": head.position,
            "old_hash": head.hash,
            "old_recorded_at": head.recorded_at,
            "new_position": last["position"],
            "new_hash": last["hash"],
            "new_recorded_at": last["recorded_at"],
        }
        if self._direct is not None:
            return await self._direct.append(parameters, rows)
        try:
            async with self._engine.begin() as connection:
                if (await connection.execute(_MOVE_HEAD_FROM, parameters)).rowcount != 1:
                    return False
                await connection.execute(insert(events_table), rows)
                return True
        except IntegrityError:
            return False  # e.g. an event id already stored: the careful path tells which case it is

    async def _append_locked(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[StoredEvent]:
        try:
            async with self._engine.begin() as connection:
                head = await _lock_head(connection)
                retried = await _already_appended(connection, stream_id, expected_version, events)
                if retried is not None:
                    self._remember(head)
                    return retried
                actual_version = await _stream_version(connection, stream_id)
                if actual_version != expected_version:
                    self._remember(head)
                    raise ConcurrencyError(stream_id, expected_version, actual_version)
                rows = _chain_rows(head, stream_id, expected_version, events)
                await connection.execute(insert(events_table), rows)
                await _move_head(connection, rows[-1])
        except IntegrityError as error:
            self._head = None
            actual_version = await self.stream_version(stream_id)
            raise ConcurrencyError(stream_id, expected_version, actual_version) from error
        self._remember(_head_after(rows[-1]))
        return [StoredEvent.model_validate(row) for row in rows]

    def _remember(self, head: _Head) -> None:
        """Keep the newest head seen (appends that finish out of order never move it back)."""
        if self._head is None or head.position >= self._head.position:
            self._head = head

    async def load_stream(self, stream_id: str, *, known_at: datetime | None = None) -> list[StoredEvent]:
        query = select(events_table).where(events_table.c.stream_id == stream_id)
        if known_at is not None:
            query = query.where(events_table.c.recorded_at <= known_at)
        return await self._fetch(query.order_by(events_table.c.stream_version))

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        query = select(events_table).where(events_table.c.position > after_position)
        return await self._fetch(query.order_by(events_table.c.position).limit(limit))

    async def stream_version(self, stream_id: str) -> int:
        async with self._engine.connect() as connection:
            return await _stream_version(connection, stream_id)

    async def verify_chain(
        self, stream_id: str | None = None, *, batch_size: int = 1000
    ) -> ChainVerification:
        """Recompute every hash in position order; the full walk also checks linkage, gaps and the head.

        With `stream_id`, only that stream's events are checked, each against its own stored prev_hash.
        """
        async with self._engine.connect() as connection:
            head = await _read_head(connection)
        walk = _ChainWalk(linked=stream_id is None)
        after = 0
        while rows := await self._rows(after, head.position, stream_id, batch_size):
            for row in rows:
                if problem := walk.check(row):
                    return walk.broken(row["position"], problem)
            after = rows[-1]["position"]
        if stream_id is None and (walk.position, walk.hash) != (head.position, head.hash):
            problem = f"the last event does not match the log head (position {head.position})"
            return walk.broken(walk.position + 1, problem)
        return ChainVerification(verified=walk.verified, ok=True)

    async def _fetch(self, query: Select[Any]) -> list[StoredEvent]:
        async with self._engine.connect() as connection:
            result = await connection.execute(query)
            keys, rows = list(result.keys()), result.all()
        return _stored_events(keys, rows)

    async def _rows(self, after: int, up_to: int, stream_id: str | None, limit: int) -> list[dict[str, Any]]:
        position = events_table.c.position
        query = select(events_table).where(position > after, position <= up_to)
        if stream_id is not None:
            query = query.where(events_table.c.stream_id == stream_id)
        async with self._engine.connect() as connection:
            result = await connection.execute(query.order_by(position).limit(limit))
            keys = list(result.keys())
            return [dict(zip(keys, row, strict=True)) for row in result.all()]


class _DirectAppender:
    """PostgreSQL's fast append: the one-statement append on a connection the store keeps, in autocommit.

    Taken from the engine's pool once and held (so its connect settings apply), it skips per append what
    the pool and SQLAlchemy cost: the checkout and its ping (a round trip), compiling and binding
    a statement of 12 parameters per event. Two statements, each prepared once: one event, and any number
    of events (as arrays). One append at a time uses it (the store holds `turn` around each): appends
    serialise on the log head's row lock anyway. A connection that fails is dropped and the append falls
    back to the pool's careful path, which also finds out whether the failed statement had committed
    (the events' ids are then stored).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.turn = asyncio.Lock()  # held by the store around each append on this connection
        self._connection: AsyncConnection | None = None
        self._driver_connection: Any = None
        serializer = getattr(engine.dialect, "_json_serializer", None)
        self._to_json: Callable[[Any], str] = serializer or json.dumps  # as SQLAlchemy's JSON type stores it

    async def append(self, head: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> bool:
        """Write `rows` if head and stream are as `head` says; False if not (or the connection failed)."""
        arguments = [
            head["new_position"],
            head["new_hash"],
            head["new_recorded_at"],
            head["old_position"],
            head["old_hash"],
            head["old_recorded_at"],
            head["stream_id"],
            head["expected_version"],
        ]
        if len(rows) == 1:  # the common case; arrays cost PostgreSQL a fifth more for one row
            row = rows[0]
            arguments += [row[name] for name in _DIRECT_SCALARS]
            arguments += [self._to_json(row["data"]), self._to_json(row["metadata"])]
        else:
            arguments += [[row[name] for row in rows] for name in _DIRECT_SCALARS]
            arguments += [[self._to_json(row[name]) for row in rows] for name in ("data", "metadata")]
        statement = _DIRECT_APPEND_ONE if len(rows) == 1 else _DIRECT_APPEND_MANY
        driver = None
        try:
            driver = await self._driver()
            status = await driver.execute(statement, *arguments)
        except Exception as error:
            # Refused by the server on a live connection (e.g. an event id already stored): the
            # careful path tells which case it is and raises what it must. Anything else means the
            # connection failed: drop it, and the careful path finds out whether the append landed.
            if not isinstance(error, asyncpg.PostgresError) or driver is None or driver.is_closed():
                await self._drop()
            return False
        except BaseException:  # cancelled mid-statement: the connection's state is unknown
            await self._drop()
            raise
        return bool(status == f"INSERT 0 {len(rows)}")

    async def close(self) -> None:
        async with self.turn:
            await self._drop()

    async def _driver(self) -> Any:
        """The asyncpg connection under the kept SQLAlchemy connection, taken from the pool once."""
        if self._connection is None:
            connection = await self._engine.connect()
            try:
                self._driver_connection = (await connection.get_raw_connection()).driver_connection
            except BaseException:
                await connection.close()
                raise
            self._connection = connection
        return self._driver_connection

    async def _drop(self) -> None:
        connection, self._connection, self._driver_connection = self._connection, None, None
        if connection is not None:
            await connection.invalidate()
            await connection.close()


# The columns sent one parameter (or array) each, in the table's order, after the eight head parameters;
# then data and metadata, as JSON text.
_DIRECT_SCALARS = tuple(c.name for c in events_table.c if c.name not in ("data", "metadata"))
# The events are written only if the same statement moved the head from where the store last left it
# (and the stream is at the expected version); otherwise nothing is written.
_MOVE_HEAD_CTE = """
WITH moved_head AS (
    UPDATE log_head SET last_position = $1, last_hash = $2, last_recorded_at = $3
    WHERE id = 1 AND last_position = $4 AND last_hash = $5
      AND last_recorded_at IS NOT DISTINCT FROM $6::timestamptz
      AND (SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $7) = $8
    RETURNING id
)
INSERT INTO events (position, event_id, stream_id, stream_version, type, schema_version, occurred_at,
                    recorded_at, prev_hash, hash, data, metadata)
"""
_DIRECT_APPEND_ONE = (
    _MOVE_HEAD_CTE
    + """SELECT $9::bigint, $10::uuid, $11::varchar, $12::int, $13::varchar, $14::int, $15::timestamptz,
       $16::timestamptz, $17::varchar, $18::varchar, $19::json, $20::json
WHERE EXISTS (SELECT FROM moved_head)"""
)
_DIRECT_APPEND_MANY = (
    _MOVE_HEAD_CTE
    + """SELECT * FROM unnest($9::bigint[], $10::uuid[], $11::varchar[], $12::int[], $13::varchar[],
                     $14::int[], $15::timestamptz[], $16::timestamptz[], $17::varchar[], $18::varchar[],
                     $19::json[], $20::json[])
WHERE EXISTS (SELECT FROM moved_head)"""
)


class _ChainWalk:
    """The state of a walk along the log: the last good event and how many were verified."""

    def __init__(self, *, linked: bool) -> None:
        self.linked = linked
        self.position = 0
        self.hash = GENESIS_HASH
        self.verified = 0

    def check(self, row: Mapping[str, Any]) -> str | None:
        """Why `row` breaks the chain, or None when it holds (then it becomes the last good event)."""
        if self.linked and row["position"] != self.position + 1:
            return f"position {row['position']} follows {self.position}: events are missing"
        if self.linked and row["prev_hash"] != self.hash:
            return "prev_hash is not the hash of the preceding event"
        if _row_hash(row) != row["hash"]:
            return "hash does not match the event's content"
        self.position, self.hash = row["position"], row["hash"]
        self.verified += 1
        return None

    def broken(self, position: int, problem: str) -> ChainVerification:
        return ChainVerification(
            verified=self.verified, ok=False, first_broken_position=position, problem=problem
        )


async def _lock_head(connection: AsyncConnection) -> _Head:
    # A write first: PostgreSQL row-locks log_head, SQLite takes its write lock, before anything is read.
    statement = (
        update(log_head)
        .where(log_head.c.id == 1)
        .values(last_position=log_head.c.last_position)
        .returning(log_head.c.last_position, log_head.c.last_hash, log_head.c.last_recorded_at)
    )
    return _head((await connection.execute(statement)).one_or_none())


async def _read_head(connection: AsyncConnection) -> _Head:
    query = select(log_head.c.last_position, log_head.c.last_hash, log_head.c.last_recorded_at)
    return _head((await connection.execute(query.where(log_head.c.id == 1))).one_or_none())


def _head(row: Sequence[Any] | None) -> _Head:
    if row is None:
        raise RuntimeError("log_head has no row: the database is not migrated")
    return _Head(position=row[0], hash=row[1], recorded_at=row[2])


async def _already_appended(
    connection: AsyncConnection, stream_id: str, expected_version: int, events: Sequence[NewEvent]
) -> list[StoredEvent] | None:
    """The stored events when this exact append was done before (a retry); None when none of them was."""
    event_ids = {event.event_id for event in events}
    query = select(events_table).where(events_table.c.event_id.in_(event_ids))
    result = await connection.execute(query.order_by(events_table.c.position))
    stored = _stored_events(list(result.keys()), result.all())
    if not stored:
        return None
    if len(stored) == len(event_ids) and all(event.stream_id == stream_id for event in stored):
        return stored
    raise ConcurrencyError(stream_id, expected_version, await _stream_version(connection, stream_id))


async def _stream_version(connection: AsyncConnection, stream_id: str) -> int:
    query = select(func.coalesce(func.max(events_table.c.stream_version), 0)).where(
        events_table.c.stream_id == stream_id
    )
    return int((await connection.execute(query)).scalar_one())


def _head_after(last: Mapping[str, Any]) -> _Head:
    return _Head(position=last["position"], hash=last["hash"], recorded_at=last["recorded_at"])


def _move_head_from() -> Update:
    """UPDATE log_head to the new head, only where it still is the old one and the stream is at the
    expected version (bound parameters `old_*`, `new_*`, `stream_id`, `expected_version`)."""
    h = log_head.c
    stream_version = (
        select(func.coalesce(func.max(events_table.c.stream_version), 0))
        .where(events_table.c.stream_id == bindparam("stream_id"))
        .scalar_subquery()
    )
    return (
        update(log_head)
        .where(
            h.id == 1,
            h.last_position == bindparam("old_position"),
            h.last_hash == bindparam("old_hash"),
            h.last_recorded_at.is_not_distinct_from(bindparam("old_recorded_at", type_=UtcDateTime())),
            stream_version == bindparam("expected_version"),
        )
        .values(
            last_position=bindparam("new_position"),
            last_hash=bindparam("new_hash"),
            last_recorded_at=bindparam("new_recorded_at", type_=UtcDateTime()),
        )
    )


_MOVE_HEAD_FROM = _move_head_from()


async def _move_head(connection: AsyncConnection, last: Mapping[str, Any]) -> None:
    await connection.execute(
        update(log_head)
        .where(log_head.c.id == 1)
        .values(last_position=last["position"], last_hash=last["hash"], last_recorded_at=last["recorded_at"])
    )


def _chain_rows(
    head: _Head, stream_id: str, expected_version: int, events: Sequence[NewEvent]
) -> list[dict[str, Any]]:
    """The rows to insert, each hashed over its envelope and linked to the one before."""
    now = datetime.now(UTC)
    # Taken under the lock and never before the last record, so recorded_at never goes backwards.
    recorded_at = max(now, head.recorded_at) if head.recorded_at else now
    rows: list[dict[str, Any]] = []
    prev_hash = head.hash
    for offset, event in enumerate(events, start=1):
        row = {
            "position": head.position + offset,
            "event_id": event.event_id,
            "stream_id": stream_id,
            "stream_version": expected_version + offset,
            "type": event.type,
            "schema_version": event.schema_version,
            "occurred_at": _utc(event.occurred_at),
            "recorded_at": recorded_at,
            "data": event.data,
            "metadata": event.metadata.model_dump(mode="json"),
            "prev_hash": prev_hash,
        }
        prev_hash = row["hash"] = _row_hash(row)
        rows.append(row)
    return rows


def _row_hash(row: Mapping[str, Any]) -> str:
    """The envelope hash of a row as stored (raw data and metadata, so any change to them shows)."""
    return envelope_hash(
        position=row["position"],
        event_id=str(row["event_id"]),
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_type=row["type"],
        schema_version=row["schema_version"],
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        data=row["data"],
        metadata=row["metadata"],
        prev_hash=row["prev_hash"],
    )


def _stored_events(keys: list[str], rows: Sequence[Row[Any]]) -> list[StoredEvent]:
    # zip with the keys taken once: Row._asdict() costs more than validating the event itself.
    return [StoredEvent.model_validate(dict(zip(keys, row, strict=True))) for row in rows]


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    return moment.astimezone(UTC)
