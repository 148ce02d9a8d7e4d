"""The projector: folds new events of the log into the read models, in log order and exactly once.

Each batch is one transaction that first locks the checkpoint row, so projectors running side by side
take turns, and a crash rolls back both the read-model changes and the checkpoint together.
"""

import asyncio
import contextlib
import gc
import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import Executable

from events.lead import fold
from events.model import InvestmentConfirmed
from events.state import LeadState
from events.upcasting import domain_event_from_json
from services.persistence.tables import events
from services.projections.rows import demand_rows, partner_request_rows, summary_row
from services.projections.tables import (
    CHECKPOINT_NAME,
    READ_MODEL_TABLES,
    SNAPSHOT_EVERY,
    demand_summaries,
    lead_domains,
    lead_snapshots,
    lead_summaries,
    partner_requests,
    projection_checkpoints,
)

LEAD_STREAM_PREFIX = "lead-"
log = logging.getLogger("groeiruimte.projector")
# A rebuild folds up to this many events (and BATCH_LEADS leads) per transaction: each lead's rows are
# then written once per batch instead of once per few hundred events.
REBUILD_BATCH_SIZE = 200_000
BATCH_LEADS = 20_000
READ_PAGE_SIZE = 10_000
CACHED_LEADS = 10_000
IN_LIST_SIZE = 5_000


@dataclass(frozen=True)
class LeadProjection:
    """What the read model holds of one lead: its state and what the state alone does not keep."""

    state: LeadState
    investment_confirmed_at: datetime | None
    position: int
    occurred_until: datetime | None  # the latest business time among the lead's events


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """The columns of an event row that projecting needs (the data as its stored JSON text)."""

    position: int
    stream_id: str
    type: str
    schema_version: int
    data: str
    occurred_at: datetime
    recorded_at: datetime


class Projector:
    """Keeps lead_summaries, lead_domains and partner_requests current with the event log.

    It remembers the projections it last committed (a bounded cache), so a lead's state is read back
    from the read model only when the cache lacks it, or when another projector has moved the
    checkpoint since (then the cache is dropped). A rebuild projects in much larger batches.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        batch_size: int = 500,
        *,
        rebuild_batch_size: int = REBUILD_BATCH_SIZE,
        cached_leads: int = CACHED_LEADS,
    ) -> None:
        self._engine = engine
        self._batch_size = batch_size
        self._rebuild_batch_size = max(batch_size, rebuild_batch_size)
        self._cache = _ProjectionCache(cached_leads)

    async def run_once(self) -> int:
        """Project the next batch of events after the checkpoint; returns how many were applied."""
        return await self._project_batch(self._batch_size)

    async def run(self, stop: asyncio.Event, poll_seconds: float) -> None:
        """Project until `stop` is set, polling the log every `poll_seconds` when caught up.

        A database outage is waited out with backoff: the failed batch rolled back with its
        checkpoint, so trying again is safe.
        """
        backoff = poll_seconds
        while not stop.is_set():
            try:
                applied = await self.run_once()
                backoff = poll_seconds
            except (OSError, DBAPIError) as error:
                log.warning("projector cannot reach the database (%s); retrying in %.1fs", error, backoff)
                applied, backoff = 0, min(backoff * 2, 30.0)
            if applied == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)

    async def rebuild(self) -> int:
        """Empty the read models and project the whole log again; returns the events applied."""
        async with self._engine.begin() as connection:
            await _lock_checkpoint(connection)
            for table in READ_MODEL_TABLES:
                await connection.execute(delete(table))
            await _set_checkpoint(connection, 0)
        self._cache.reset(0)
        total = 0
        with _no_cyclic_collections():
            while applied := await self._project_batch(self._rebuild_batch_size):
                total += applied
        await _refresh_statistics(self._engine)
        return total

    async def _project_batch(self, limit: int) -> int:
        """Fold up to `limit` events after the checkpoint in one transaction, writing each lead once."""
        async with self._engine.begin() as connection:
            checkpoint = await _lock_checkpoint(connection)
            self._cache.continue_from(checkpoint)
            folded: dict[str, LeadProjection] = {}
            snapshots: list[dict[str, Any]] = []
            position, applied = checkpoint, 0
            # Bounded by events and by leads held: a log of many short histories must not fill memory.
            while applied < limit and len(folded) < BATCH_LEADS:
                rows = await _read_events(connection, position, min(READ_PAGE_SIZE, limit - applied))
                if not rows:
                    break
                await _fold_page(connection, rows, folded, self._cache, snapshots)
                position, applied = rows[-1].position, applied + len(rows)
            if not applied:
                return 0
            await _write(connection, list(folded.values()))
            if snapshots:
                await connection.execute(_upsert(connection, lead_snapshots), snapshots)
            await _set_checkpoint(connection, position)
        # Only what was committed enters the cache: a failed batch leaves it as it was.
        self._cache.committed(folded.values(), position)
        return applied


@contextlib.contextmanager
def _no_cyclic_collections() -> Iterator[None]:
    """Keep the cyclic garbage collector out of a rebuild; it runs as usual afterwards.

    A batch allocates millions of objects while it holds thousands of lead states, none of them in
    reference cycles (they are freed by reference counting); every collection the allocations set off
    rescans those states. With the thresholds raised (50,000/20/100) that was still a sixth of the
    rebuild's time, and a young-generation collection after each batch a twelfth.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _ProjectionCache:
    """The projections of recently projected leads as committed at `position`, least recent first out."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._position: int | None = None
        self._projections: OrderedDict[str, LeadProjection] = OrderedDict()

    def continue_from(self, checkpoint: int) -> None:
        """Keep the cache only when the read models are still where this projector left them."""
        if checkpoint != self._position:
            self.reset(checkpoint)

    def reset(self, position: int) -> None:
        self._projections.clear()
        self._position = position

    def get(self, lead_id: str) -> LeadProjection | None:
        return self._projections.get(lead_id)

    def committed(self, projections: Iterable[LeadProjection], position: int) -> None:
        for projection in projections:
            lead_id = str(projection.state.lead_id)
            self._projections[lead_id] = projection
            self._projections.move_to_end(lead_id)
        while len(self._projections) > self._size:
            self._projections.popitem(last=False)
        self._position = position


async def _lock_checkpoint(connection: AsyncConnection) -> int:
    # A write first: PostgreSQL locks the row, SQLite takes its write lock, so batches never interleave.
    column = projection_checkpoints.c.position
    statement = (
        update(projection_checkpoints)
        .where(projection_checkpoints.c.name == CHECKPOINT_NAME)
        .values(position=column)
        .returning(column)
    )
    return int((await connection.execute(statement)).scalar_one())


async def _set_checkpoint(connection: AsyncConnection, position: int) -> None:
    statement = (
        update(projection_checkpoints)
        .where(projection_checkpoints.c.name == CHECKPOINT_NAME)
        .values(position=position)
    )
    await connection.execute(statement)


async def _read_events(connection: AsyncConnection, after: int, limit: int) -> list[LoggedEvent]:
    if connection.dialect.name == "postgresql":
        # The driver directly, in the batch's transaction: SQLAlchemy's row processing cost as much as
        # the rest of reading (asyncpg already gives aware UTC datetimes and the JSON as text).
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        return [LoggedEvent(*row) for row in await driver.fetch(_READ_EVENTS_SQL, after, limit)]
    columns = (events.c.position, events.c.stream_id, events.c.type, events.c.schema_version)
    statement = (
        select(*columns, events.c.data.cast(Text), events.c.occurred_at, events.c.recorded_at)
        .where(events.c.position > after)
        .order_by(events.c.position)
        .limit(limit)
    )
    return [LoggedEvent(*row) for row in await connection.execute(statement)]


_READ_EVENTS_SQL = (
    "SELECT position, stream_id, type, schema_version, data::text, occurred_at, recorded_at FROM events"
    " WHERE position > $1 ORDER BY position LIMIT $2"
)


async def _fold_page(
    connection: AsyncConnection,
    rows: Sequence[LoggedEvent],
    folded: dict[str, LeadProjection],
    cache: _ProjectionCache,
    snapshots: list[dict[str, Any]],
) -> None:
    """Fold a page of events into `folded`, starting each lead from this batch, the cache or the table;
    the snapshots passed on the way go to `snapshots`."""
    by_lead: dict[str, list[LoggedEvent]] = {}
    for row in rows:
        if row.stream_id.startswith(LEAD_STREAM_PREFIX):
            by_lead.setdefault(row.stream_id.removeprefix(LEAD_STREAM_PREFIX), []).append(row)
    current = {lead_id: folded.get(lead_id) or cache.get(lead_id) for lead_id in by_lead}
    current.update(await _load(connection, [lead_id for lead_id, known in current.items() if known is None]))
    for lead_id, lead_rows in by_lead.items():
        projection = _fold(current.get(lead_id), lead_rows, snapshots)
        folded[str(projection.state.lead_id)] = projection


async def _load(connection: AsyncConnection, lead_ids: list[str]) -> dict[str, LeadProjection]:
    """The read model's current projection of each of these leads that it already holds."""
    table = lead_summaries
    c = table.c
    statement = select(c.lead_id, c.state.cast(Text), c.investment_confirmed_at, c.position, c.occurred_until)
    loaded: dict[str, LeadProjection] = {}
    for chunk in _chunks(lead_ids):
        result = await connection.execute(statement.where(table.c.lead_id.in_(chunk)))
        for lead_id, document, confirmed_at, position, occurred_until in result:
            state = LeadState.model_validate_json(document)
            loaded[lead_id] = LeadProjection(state, confirmed_at, position, occurred_until)
    return loaded


def _chunks(values: list[str], size: int = IN_LIST_SIZE) -> list[list[str]]:
    """Slices short enough for an IN list on either database (bound-parameter limits)."""
    return [values[start : start + size] for start in range(0, len(values), size)]


def _fold(
    projection: LeadProjection | None, rows: list[LoggedEvent], snapshots: list[dict[str, Any]]
) -> LeadProjection:
    """The lead after `rows`; the state after every SNAPSHOT_EVERY-th event goes to `snapshots`."""
    history = [(domain_event_from_json(r.type, r.schema_version, r.data), r.occurred_at) for r in rows]
    state = projection.state if projection else None
    occurred_until = projection.occurred_until if projection else None
    version = state.version if state else 0
    start = 0
    for end in [*range(SNAPSHOT_EVERY - version % SNAPSHOT_EVERY, len(rows), SNAPSHOT_EVERY), len(rows)]:
        if end == start:
            continue
        state = fold(history[start:end], state)
        latest = max(at for _, at in history[start:end])
        occurred_until = latest if occurred_until is None else max(occurred_until, latest)
        if state is not None and state.version % SNAPSHOT_EVERY == 0:
            snapshots.append(_snapshot_row(state, rows[end - 1], occurred_until))
        start = end
    confirmed = [at for event, at in history if isinstance(event, InvestmentConfirmed)]
    confirmed_at = confirmed[-1] if confirmed else projection.investment_confirmed_at if projection else None
    assert state is not None and occurred_until is not None  # rows is never empty
    return LeadProjection(state, confirmed_at, rows[-1].position, occurred_until)


def _snapshot_row(state: LeadState, last: LoggedEvent, occurred_until: datetime) -> dict[str, Any]:
    return {
        "lead_id": str(state.lead_id),
        "stream_version": state.version,
        "position": last.position,
        "occurred_until": occurred_until,
        "recorded_at": last.recorded_at,
        "state": state.model_dump_json(),
    }


async def _write(connection: AsyncConnection, projections: list[LeadProjection]) -> None:
    if not projections:
        return
    lead_ids = [str(p.state.lead_id) for p in projections]
    summaries = [
        summary_row(p.state, p.investment_confirmed_at, p.position) | {"occurred_until": p.occurred_until}
        for p in projections
    ]
    await connection.execute(_upsert(connection, lead_summaries), summaries)
    for chunk in _chunks(lead_ids):
        await connection.execute(delete(lead_domains).where(lead_domains.c.lead_id.in_(chunk)))
    domains = [{"lead_id": s["lead_id"], "domain": d} for s in summaries for d in sorted(set(s["domains"]))]
    if domains:
        await connection.execute(insert(lead_domains), domains)
    requests = [row for p in projections for row in partner_request_rows(p.state)]
    if requests:
        await connection.execute(_upsert(connection, partner_requests), requests)
    demands = [row for p in projections for row in demand_rows(p.state)]
    if demands:
        await connection.execute(_upsert(connection, demand_summaries), demands)


def _upsert(connection: AsyncConnection, table: Any) -> Executable:
    """INSERT … ON CONFLICT (primary key) DO UPDATE of every other column, for executemany."""
    keys = [column.name for column in table.primary_key.columns]
    if connection.dialect.name == "postgresql":
        pg_statement = postgresql.insert(table)
        others = {c.name: pg_statement.excluded[c.name] for c in table.columns if c.name not in keys}
        return pg_statement.on_conflict_do_update(index_elements=keys, set_=others)
    lite_statement = sqlite.insert(table)
    others = {c.name: lite_statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return lite_statement.on_conflict_do_update(index_elements=keys, set_=others)


async def _refresh_statistics(engine: AsyncEngine) -> None:
    """After a rebuild on PostgreSQL: fresh planner statistics and a visibility map for the read models,
    without which the list's counts cannot be index-only scans until autovacuum comes by (measured at
    100,000 leads: 37 ms instead of 2 ms for one count). Only the tables' owner may; others skip it."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in READ_MODEL_TABLES:
            try:
                await autocommit.execute(text(f"VACUUM (ANALYZE) {table.name}"))
            except DBAPIError as error:
                log.warning("could not vacuum %s after the rebuild: %s", table.name, error.orig)
