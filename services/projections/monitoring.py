"""Brokering monitoring: bottlenecks by region and demand kind, partner responsiveness."""

import statistics
from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.reference import Region
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
    d = demand_summaries.c
    statement = (
        select(d.home_region, d.kind, func.count())
        .where(d.status == "unresolved")
        .group_by(d.home_region, d.kind)
    )
    grid = {region.value: dict.fromkeys(DEMAND_KINDS, 0) for region in Region}
    async with engine.connect() as connection:
        for region, kind, count in (await connection.execute(statement)).all():
            grid[region][kind] = int(count)
    return Bottlenecks(total=sum(sum(kinds.values()) for kinds in grid.values()), by_region=grid)


class _RequestFacts(BaseModel):
    partner_id: str
    status: str
    answer: str | None
    due_date: date
    sent_at: datetime
    answered_at: datetime | None
    reminders_sent: int
    escalated: bool


async def partner_responsiveness(engine: AsyncEngine, today: date) -> list[PartnerResponsiveness]:
    """Per partner: requests, open and overdue ones, answers, reminders and median days to answer."""
    columns = [partner_requests.c[name] for name in _RequestFacts.model_fields]
    by_partner: dict[str, list[_RequestFacts]] = defaultdict(list)
    async with engine.connect() as connection:
        for row in (await connection.execute(select(*columns))).all():
            facts = _RequestFacts.model_validate(dict(row._mapping))
            by_partner[facts.partner_id].append(facts)
    return [_responsiveness(partner_id, rows, today) for partner_id, rows in sorted(by_partner.items())]


def _responsiveness(partner_id: str, rows: list[_RequestFacts], today: date) -> PartnerResponsiveness:
    days = [(r.answered_at - r.sent_at).total_seconds() / 86400 for r in rows if r.answered_at is not None]
    return PartnerResponsiveness(
        partner_id=partner_id,
        requests=len(rows),
        open=sum(1 for r in rows if r.status == "open"),
        overdue=sum(1 for r in rows if r.status == "open" and r.due_date < today),
        offers=sum(1 for r in rows if r.answer == "offer"),
        declines=sum(1 for r in rows if r.answer == "decline"),
        reminders_sent=sum(r.reminders_sent for r in rows),
        escalated=sum(1 for r in rows if r.escalated),
        median_response_days=round(statistics.median(days), 2) if days else None,
    )
