"""The projector: folds new events of the log into the read models, in log order and exactly once.

Each batch is one transaction that first locks the checkpoint row, so projectors running side by side
take turns, and a crash rolls back both the read-model changes and the checkpoint together.
"""

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import Executable

from events.evolve import evolve
from events.model import InvestmentConfirmed
from events.state import LeadState
from events.upcasting import to_domain_event
from services.persistence.tables import events
from services.projections.rows import partner_request_rows, summary_row
from services.projections.tables import (
    CHECKPOINT_NAME,
    READ_MODEL_TABLES,
    lead_domains,
    lead_summaries,
    partner_requests,
    projection_checkpoints,
)

LEAD_STREAM_PREFIX = "lead-"


@dataclass(frozen=True)
class LeadProjection:
    """What the read model holds of one lead: its state and what the state alone does not keep."""

    state: LeadState
    investment_confirmed_at: datetime | None
    position: int


@dataclass(frozen=True)
class LoggedEvent:
    """The columns of an event row that projecting needs."""

    position: int
    stream_id: str
    type: str
    schema_version: int
    data: dict[str, Any]
    occurred_at: datetime


class Projector:
    """Keeps lead_summaries, lead_domains and partner_requests current with the event log."""

    def __init__(self, engine: AsyncEngine, batch_size: int = 500) -> None:
        self._engine = engine
        self._batch_size = batch_size

    async def run_once(self) -> int:
        """Project the next batch of events after the checkpoint; returns how many were applied."""
        async with self._engine.begin() as connection:
            checkpoint = await _lock_checkpoint(connection)
            rows = await _read_events(connection, checkpoint, self._batch_size)
            if not rows:
                return 0
            await _project(connection, rows)
            await _set_checkpoint(connection, rows[-1].position)
        return len(rows)

    async def run(self, stop: asyncio.Event, poll_seconds: float) -> None:
        """Project until `stop` is set, polling the log every `poll_seconds` when caught up."""
        while not stop.is_set():
            if await self.run_once() == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)

    async def rebuild(self) -> int:
        """Empty the read models and project the whole log again; returns the events applied."""
        async with self._engine.begin() as connection:
            await _lock_checkpoint(connection)
            for table in READ_MODEL_TABLES:
                await connection.execute(delete(table))
            await _set_checkpoint(connection, 0)
        total = 0
        while applied := await self.run_once():
            total += applied
        return total


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
    columns = (events.c.position, events.c.stream_id, events.c.type, events.c.schema_version)
    statement = (
        select(*columns, events.c.data, events.c.occurred_at)
        .where(events.c.position > after)
        .order_by(events.c.position)
        .limit(limit)
    )
    return [LoggedEvent(**row._mapping) for row in await connection.execute(statement)]


async def _project(connection: AsyncConnection, rows: Sequence[LoggedEvent]) -> None:
    by_lead: dict[str, list[LoggedEvent]] = {}
    for row in rows:
        if row.stream_id.startswith(LEAD_STREAM_PREFIX):
            by_lead.setdefault(row.stream_id.removeprefix(LEAD_STREAM_PREFIX), []).append(row)
    current = await _load(connection, list(by_lead))
    projections = [_fold(current.get(lead_id), lead_rows) for lead_id, lead_rows in by_lead.items()]
    await _write(connection, projections)


async def _load(connection: AsyncConnection, lead_ids: list[str]) -> dict[str, LeadProjection]:
    """The read model's current projection of each of these leads that it already holds."""
    table = lead_summaries
    statement = select(table.c.lead_id, table.c.state, table.c.investment_confirmed_at, table.c.position)
    result = await connection.execute(statement.where(table.c.lead_id.in_(lead_ids)))
    return {
        row.lead_id: LeadProjection(
            LeadState.model_validate(row.state), row.investment_confirmed_at, row.position
        )
        for row in result
    }


def _fold(projection: LeadProjection | None, rows: list[LoggedEvent]) -> LeadProjection:
    state = projection.state if projection else None
    confirmed_at = projection.investment_confirmed_at if projection else None
    for row in rows:
        event = to_domain_event(row.type, row.schema_version, row.data)
        state = evolve(state, event, row.occurred_at)
        if isinstance(event, InvestmentConfirmed):
            confirmed_at = row.occurred_at
    assert state is not None  # rows is never empty
    return LeadProjection(state, confirmed_at, rows[-1].position)


async def _write(connection: AsyncConnection, projections: list[LeadProjection]) -> None:
    if not projections:
        return
    lead_ids = [str(p.state.lead_id) for p in projections]
    summaries = [summary_row(p.state, p.investment_confirmed_at, p.position) for p in projections]
    await connection.execute(_upsert(connection, lead_summaries), summaries)
    await connection.execute(delete(lead_domains).where(lead_domains.c.lead_id.in_(lead_ids)))
    domains = [{"lead_id": s["lead_id"], "domain": d} for s in summaries for d in sorted(set(s["domains"]))]
    if domains:
        await connection.execute(insert(lead_domains), domains)
    requests = [row for p in projections for row in partner_request_rows(p.state)]
    if requests:
        await connection.execute(_upsert(connection, partner_requests), requests)


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
