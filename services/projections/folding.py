"""Folding events of the log into read-model rows, and writing them: what every projector batch does.

The projector (services/projections/projector.py) runs these in one process; a rebuild also runs them in
worker processes (services/projections/rebuild_workers.py), each on its share of the leads.
"""

import contextlib
import gc
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Text, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import Executable

from events.lead import fold
from events.model import InvestmentConfirmed
from events.state import LeadState
from events.upcasting import domain_event_from_json
from services.persistence.tables import events
from services.projections.rows import demand_rows, partner_request_rows, summary_row
from services.projections.tables import (
    CHECKPOINT_NAME,
    SNAPSHOT_EVERY,
    demand_summaries,
    lead_domains,
    lead_snapshots,
    lead_summaries,
    partner_requests,
    projection_checkpoints,
)

LEAD_STREAM_PREFIX = "lead-"
READ_PAGE_SIZE = 10_000
# Events folded at a time. A fold pays for every lead it touches (its draft state, its projection); a
# page of the log holds two or three events of each of the few thousand leads under way, a chunk of this
# many about twenty: a rebuild's workers spent a quarter less CPU (docs/benchmarks.md, eleventh round).
FOLD_CHUNK_EVENTS = 50_000
IN_LIST_SIZE = 5_000


@dataclass(frozen=True)
class LeadProjection:
    """What the read model holds of one lead: its state and what the state alone does not keep."""

    state: LeadState
    investment_confirmed_at: datetime | None
    position: int
    occurred_until: datetime | None  # the latest business time among the lead's events


class LoggedEvent(NamedTuple):
    """The columns of an event row that projecting needs (the data as its stored JSON text).

    A named tuple: made from a driver's row in a third of the time a dataclass takes (a rebuild makes one
    per event)."""

    position: int
    stream_id: str
    type: str
    schema_version: int
    data: str
    occurred_at: datetime
    recorded_at: datetime


class RecentProjections:
    """Where a fold finds the projections of leads folded before, without reading the read model: the
    most recent `size`, least recent first out — but never one whose batch is not committed yet (the read
    model does not have it, so a later batch could not read it back)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._projections: OrderedDict[str, LeadProjection] = OrderedDict()

    def get(self, lead_id: str) -> LeadProjection | None:
        return self._projections.get(lead_id)

    def keep(self, projections: Iterable[LeadProjection]) -> None:
        for projection in projections:
            lead_id = str(projection.state.lead_id)
            self._projections[lead_id] = projection
            self._projections.move_to_end(lead_id)

    def trim(self, committed: int) -> None:
        """Let go of the least recent beyond `size`, of those committed by position `committed`."""
        while len(self._projections) > self._size:
            lead_id, oldest = next(iter(self._projections.items()))
            if oldest.position > committed:
                break
            del self._projections[lead_id]

    def clear(self) -> None:
        self._projections.clear()


@contextlib.contextmanager
def no_cyclic_collections() -> Iterator[None]:
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


async def lock_checkpoint(connection: AsyncConnection) -> int:
    # A write first: PostgreSQL locks the row, SQLite takes its write lock, so batches never interleave.
    column = projection_checkpoints.c.position
    statement = (
        update(projection_checkpoints)
        .where(projection_checkpoints.c.name == CHECKPOINT_NAME)
        .values(position=column)
        .returning(column)
    )
    return int((await connection.execute(statement)).scalar_one())


async def set_checkpoint(connection: AsyncConnection, position: int) -> None:
    statement = (
        update(projection_checkpoints)
        .where(projection_checkpoints.c.name == CHECKPOINT_NAME)
        .values(position=position)
    )
    await connection.execute(statement)


async def read_events(connection: AsyncConnection, after: int, limit: int) -> list[LoggedEvent]:
    if connection.dialect.name == "postgresql":
        # The driver directly, in the batch's transaction: SQLAlchemy's row processing cost as much as
        # the rest of reading (asyncpg already gives aware UTC datetimes and the JSON as text).
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        return list(map(LoggedEvent._make, await driver.fetch(_READ_EVENTS_SQL, after, limit)))
    columns = (events.c.position, events.c.stream_id, events.c.type, events.c.schema_version)
    statement = (
        select(*columns, events.c.data.cast(Text), events.c.occurred_at, events.c.recorded_at)
        .where(events.c.position > after)
        .order_by(events.c.position)
        .limit(limit)
    )
    return list(map(LoggedEvent._make, await connection.execute(statement)))


_READ_EVENTS_SQL = (
    "SELECT position, stream_id, type, schema_version, data::text, occurred_at, recorded_at FROM events"
    " WHERE position > $1 ORDER BY position LIMIT $2"
)


async def fold_page(
    connection: AsyncConnection,
    rows: Sequence[LoggedEvent],
    folded: dict[str, LeadProjection],
    cache: RecentProjections,
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
        folded[lead_id] = projection


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


@dataclass(frozen=True)
class ReadModelRows:
    """The rows a batch writes: each folded lead's summary, domains, partner requests and demands, and the
    snapshots passed; and how many events they fold. Plain values, so a rebuild worker can send them to
    the process that writes them."""

    summaries: list[dict[str, Any]]
    domains: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    demands: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]
    events: int = 0

    @classmethod
    def of(
        cls, projections: Iterable[LeadProjection], snapshots: list[dict[str, Any]], *, events: int = 0
    ) -> "ReadModelRows":
        folded = list(projections)
        summaries = [
            summary_row(p.state, p.investment_confirmed_at, p.position) | {"occurred_until": p.occurred_until}
            for p in folded
        ]
        domains = [(s["lead_id"], sorted(set(s["domains"]))) for s in summaries]
        return cls(
            summaries=summaries,
            domains=[{"lead_id": lead_id, "domain": d} for lead_id, names in domains for d in names],
            requests=[row for p in folded for row in partner_request_rows(p.state)],
            demands=[row for p in folded for row in demand_rows(p.state)],
            snapshots=snapshots,
            events=events,
        )

    @classmethod
    def merged(cls, parts: Sequence["ReadModelRows"]) -> "ReadModelRows":
        """The rows of several workers' shares of one batch (their leads never overlap)."""
        lists = {name: [row for part in parts for row in getattr(part, name)] for name in _ROW_LISTS}
        return cls(**lists, events=sum(part.events for part in parts))


_ROW_LISTS = ("summaries", "domains", "requests", "demands", "snapshots")


async def write_rows(connection: AsyncConnection, rows: ReadModelRows) -> None:
    """Upsert a batch's rows; a lead's domains are replaced as a whole."""
    if rows.summaries:
        await connection.execute(_upsert(connection, lead_summaries), rows.summaries)
    for chunk in _chunks([summary["lead_id"] for summary in rows.summaries]):
        await connection.execute(delete(lead_domains).where(lead_domains.c.lead_id.in_(chunk)))
    for table, values in (
        (lead_domains, rows.domains),
        (partner_requests, rows.requests),
        (demand_summaries, rows.demands),
        (lead_snapshots, rows.snapshots),
    ):
        if values:
            statement = insert(table) if table is lead_domains else _upsert(connection, table)
            await connection.execute(statement, values)


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
