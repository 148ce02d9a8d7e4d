"""The bulk loader: writes a valid, hash-chained log in large batches, far faster than one append at a time.

Every row is hashed with `events.hashing.envelope_hash` over exactly the envelope the event store hashes,
chained to its predecessor, and the log head is moved with it, so `verify_chain` accepts the result and
later appends continue the chain. The contact persons' keys go into the vault (`person_keys`) as the API
would have put them there, erased persons' without a key. PostgreSQL gets COPY; SQLite gets executemany
in one transaction per batch. Read models are then built by the normal `Projector.rebuild` — nothing here
touches them.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any
from uuid import UUID

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import insert, select, update

from bench.databases import Database
from bench.histories import SyntheticEvent
from events.hashing import envelope_hash
from services.persistence.engine import create_engine
from services.persistence.tables import events as events_table
from services.persistence.tables import log_head, person_keys

COLUMNS = (
    "position",
    "event_id",
    "stream_id",
    "stream_version",
    "type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "data",
    "metadata",
    "prev_hash",
    "hash",
)

VAULT_COLUMNS = ("person_id", "lead_id", "key", "created_at", "erased_at")
MOVE_HEAD = "UPDATE log_head SET last_position = $1, last_hash = $2, last_recorded_at = $3 WHERE id = 1"


@dataclass
class Head:
    """The end of the log while loading: the position, hash and record time to chain onto."""

    position: int
    hash: str
    recorded_at: datetime | None


async def bulk_load(database: Database, log: Iterable[SyntheticEvent], *, batch_size: int = 20_000) -> int:
    """Append every event of `log` after the current head; returns how many were written."""
    if database.kind == "postgresql":
        return await _load_postgresql(database.raw, log, batch_size)
    return await _load_sqlite(database.url, log, batch_size)


class Vault:
    """The `person_keys` rows the loaded events imply: a key per contact person, none once erased."""

    def __init__(self) -> None:
        self.rows: dict[UUID, dict[str, Any]] = {}

    def note(self, events: Iterable[SyntheticEvent]) -> None:
        for event in events:
            if event.type == "ContactPersonAdded" and event.person_key is not None:
                person_id = UUID(event.data["person_id"])
                self.rows[person_id] = {
                    "person_id": person_id,
                    "lead_id": UUID(event.stream_id.removeprefix("lead-")),
                    "key": event.person_key,
                    "created_at": event.recorded_at,
                    "erased_at": None,
                }
            elif event.type == "PersonalDataErased" and (row := self.rows.get(UUID(event.data["person_id"]))):
                row["key"], row["erased_at"] = None, event.recorded_at


def chained_rows(head: Head, batch: Iterable[SyntheticEvent]) -> Iterator[dict[str, Any]]:
    """The batch as event rows, each hashed over its envelope and linked to the one before; moves `head`."""
    for event in batch:
        recorded_at = event.recorded_at
        if head.recorded_at is not None and recorded_at < head.recorded_at:
            recorded_at = head.recorded_at  # as the store does: record time never goes backwards
        position = head.position + 1
        row_hash = envelope_hash(
            position=position,
            event_id=str(event.event_id),
            stream_id=event.stream_id,
            stream_version=event.stream_version,
            event_type=event.type,
            schema_version=1,
            occurred_at=event.occurred_at,
            recorded_at=recorded_at,
            data=event.data,
            metadata=event.metadata,
            prev_hash=head.hash,
        )
        yield {
            "position": position,
            "event_id": event.event_id,
            "stream_id": event.stream_id,
            "stream_version": event.stream_version,
            "type": event.type,
            "schema_version": 1,
            "occurred_at": event.occurred_at,
            "recorded_at": recorded_at,
            "data": event.data,
            "metadata": event.metadata,
            "prev_hash": head.hash,
            "hash": row_hash,
        }
        head.position, head.hash, head.recorded_at = position, row_hash, recorded_at


def _record(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as COPY takes it: JSON columns as text, as SQLAlchemy's JSON type would send them."""
    values = [row[column] for column in COLUMNS]
    values[8], values[9] = json.dumps(row["data"]), json.dumps(row["metadata"])
    return tuple(values)


def _batches(log: Iterable[SyntheticEvent], size: int) -> Iterator[list[SyntheticEvent]]:
    events = iter(log)
    while batch := list(islice(events, size)):
        yield batch


async def _load_postgresql(dsn: str, log: Iterable[SyntheticEvent], batch_size: int) -> int:
    connection = await asyncpg.connect(dsn)
    written = 0
    try:
        row = await connection.fetchrow("SELECT last_position, last_hash, last_recorded_at FROM log_head")
        assert row is not None, "log_head has no row: the database is not migrated"
        head = Head(row[0], row[1], row[2])
        vault = Vault()
        for batch in _batches(log, batch_size):
            records = [_record(row) for row in chained_rows(head, batch)]
            vault.note(batch)
            async with connection.transaction():
                await connection.copy_records_to_table("events", records=records, columns=COLUMNS)
                await connection.execute(MOVE_HEAD, head.position, head.hash, head.recorded_at)
            written += len(records)
        keys = [tuple(row[column] for column in VAULT_COLUMNS) for row in vault.rows.values()]
        await connection.copy_records_to_table("person_keys", records=keys, columns=VAULT_COLUMNS)
        # As after any bulk load, and as autovacuum would soon after so many inserts (where it is on; the
        # benchmark machines run with it off): without statistics the planner took a stream's 125 events
        # for 15,000 and read them with a parallel scan, 10-16 ms instead of 1.5 (measured at 10M events).
        await connection.execute("VACUUM (ANALYZE) events, person_keys")
    finally:
        await connection.close()
    await settle(dsn)
    return written


async def settle(dsn: str) -> None:
    """Let PostgreSQL write out what a set-up left in its buffers before anything is measured: a CHECKPOINT
    now, instead of one spread over the next minutes (`checkpoint_completion_target`) under the
    measurements. Skipped where the role may not (PostgreSQL 15: superusers and `pg_checkpoint`)."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        pass
    finally:
        await connection.close()


async def _load_sqlite(url: str, log: Iterable[SyntheticEvent], batch_size: int) -> int:
    engine = create_engine(url)
    written = 0
    try:
        async with engine.connect() as connection:
            stored = (await connection.execute(select(log_head).where(log_head.c.id == 1))).one()
        head = Head(stored.last_position, stored.last_hash, stored.last_recorded_at)
        vault = Vault()
        for batch in _batches(log, batch_size):
            rows = list(chained_rows(head, batch))
            vault.note(batch)
            async with engine.begin() as connection:
                await connection.execute(insert(events_table), rows)
                await connection.execute(
                    update(log_head)
                    .where(log_head.c.id == 1)
                    .values(
                        last_position=head.position, last_hash=head.hash, last_recorded_at=head.recorded_at
                    )
                )
            written += len(rows)
        if vault.rows:
            async with engine.begin() as connection:
                await connection.execute(insert(person_keys), list(vault.rows.values()))
    finally:
        await engine.dispose()
    return written
