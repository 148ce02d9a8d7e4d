"""Brokering monitoring: bottlenecks by region and demand kind, partner responsiveness."""

import statistics
from collections import defaultdict
from datetime import date
from functools import partial
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.reference import Region
from services.projections.read_cache import cached
from services.projections.tables import demand_summaries, partner_requests

DEMAND_KINDS = ("space", "capital", "talent", "housing_accessibility", "energy", "financing")


class Bottlenecks(BaseModel):
    """Unresolved demands (no room found) by the lead's home region and demand kind."""

    total: int
    by_region: dict[str, dict[str, int]]


class PartnerResponsiveness(BaseModel):
    partner_id: str
    requests: int
    open: int
    overdue: int
    offers: int
    declines: int
    reminders_sent: int
    escalated: int
    median_response_days: float | None


async def bottlenecks(engine: AsyncEngine) -> Bottlenecks:
    """Counted once per projection checkpoint."""
    return await cached(engine, "bottlenecks", _bottlenecks)


async def _bottlenecks(connection: AsyncConnection) -> Bottlenecks:
    d = demand_summaries.c
    statement = (
        select(d.home_region, d.kind, func.count())
        .where(d.status == "unresolved")
        .group_by(d.home_region, d.kind)
    )
    grid = {region.value: dict.fromkeys(DEMAND_KINDS, 0) for region in Region}
    for region, kind, count in (await connection.execute(statement)).all():
        grid[region][kind] = int(count)
    return Bottlenecks(total=sum(sum(kinds.values()) for kinds in grid.values()), by_region=grid)


async def partner_responsiveness(engine: AsyncEngine, today: date) -> list[PartnerResponsiveness]:
    """Per partner: requests, open and overdue ones, answers, reminders and median days to answer.

    Counted in the database (GROUP BY), once per projection checkpoint and day.
    """
    return await cached(engine, ("partners", today), partial(_partner_responsiveness, today=today))


async def _partner_responsiveness(connection: AsyncConnection, today: date) -> list[PartnerResponsiveness]:
    r = partner_requests.c
    is_open = r.status == "open"
    counting = select(
        r.partner_id,
        func.count(),
        func.count().filter(is_open),
        func.count().filter(and_(is_open, r.due_date < today)),
        func.count().filter(r.answer == "offer"),
        func.count().filter(r.answer == "decline"),
        func.coalesce(func.sum(r.reminders_sent), 0),
        func.count().filter(r.escalated == true()),
    ).group_by(r.partner_id)
    answered = select(r.partner_id, r.sent_at, r.answered_at).where(r.answered_at.is_not(None))
    days: dict[str, list[float]] = defaultdict(list)
    for partner_id, sent_at, answered_at in await connection.execute(answered):
        days[partner_id].append((answered_at - sent_at).total_seconds() / 86400)
    rows = (await connection.execute(counting)).all()
    # Sorted here, not by the database: its collation may order partner ids differently.
    return [_responsiveness(tuple(row), days.get(row[0], [])) for row in sorted(rows, key=lambda row: row[0])]


def _responsiveness(counts: tuple[Any, ...], days: list[float]) -> PartnerResponsiveness:
    partner_id, requests, open_, overdue, offers, declines, reminders, escalated = counts
    return PartnerResponsiveness(
        partner_id=partner_id,
        requests=int(requests),
        open=int(open_),
        overdue=int(overdue),
        offers=int(offers),
        declines=int(declines),
        reminders_sent=int(reminders),
        escalated=int(escalated),
        median_response_days=round(statistics.median(days), 2) if days else None,
    )
