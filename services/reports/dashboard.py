"""The dashboard's breakdowns from the read models' columns, counted in the database where it can.

The same figures as `breakdowns()` over every lead's state (services/reports/breakdowns.py), without
loading and validating every state: the funnel, the stages, the bottlenecks and the flows are GROUP BYs;
lead times and partner times read two columns per row. Computed once per projection checkpoint.
"""

from collections import Counter, defaultdict
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.demands import DemandStatus
from events.reference import OutcomeCode, Region
from events.state import Stage
from services.projections.queries import count_stages
from services.projections.read_cache import cached
from services.projections.tables import demand_summaries, lead_summaries, partner_requests
from services.reports.breakdowns import (
    DEMAND_KINDS,
    Breakdowns,
    Flow,
    LeadTimes,
    PartnerTimes,
    flow_target,
    flows_from,
    lead_times_from,
    partner_times_from,
)


async def current_breakdowns(engine: AsyncEngine, as_of: datetime) -> Breakdowns:
    """The read models' breakdowns (only `as_of` depends on the moment), once per projection checkpoint."""
    found = await cached(engine, "breakdowns", _breakdowns)
    return found.model_copy(update={"as_of": as_of})


async def _breakdowns(connection: AsyncConnection) -> Breakdowns:
    return Breakdowns(
        as_of=datetime.now(UTC),
        funnel=await _funnel(connection),
        current_stages=dict(await count_stages(connection)),
        bottlenecks=await _bottlenecks(connection),
        flows=await _flows(connection),
        lead_times=await _lead_times(connection),
        partners=await _partner_times(connection),
    )


async def _funnel(connection: AsyncConnection) -> dict[str, int | None]:
    """How many leads reached each step (see `breakdowns.funnel`)."""
    s = lead_summaries.c
    statement = select(
        func.count(),
        func.count().filter(s.demand_count > 0),
        func.count().filter(s.articulation_completed_at.is_not(None)),
        func.count().filter(s.outcome_code.is_not(None)),
        func.count().filter(s.stage == Stage.CLOSED.value),
    ).select_from(lead_summaries)
    counts = (await connection.execute(statement)).one()
    steps = ("signalled", "articulating", "brokering", "decided", "closed")
    return {step: int(count) for step, count in zip(steps, counts, strict=True)}


async def _bottlenecks(connection: AsyncConnection) -> dict[str, dict[str, int | None]]:
    """Leads (not demands) with an unresolved demand, by home region and demand kind."""
    d = demand_summaries.c
    statement = (
        select(d.home_region, d.kind, func.count(d.lead_id.distinct()))
        .where(d.status == DemandStatus.UNRESOLVED.value)
        .group_by(d.home_region, d.kind)
    )
    grid: dict[str, dict[str, int | None]] = {r.value: dict.fromkeys(DEMAND_KINDS, 0) for r in Region}
    for region, kind, leads in await connection.execute(statement):
        grid[region][kind] = int(leads)
    return grid


async def _flows(connection: AsyncConnection) -> list[Flow]:
    s = lead_summaries.c
    statement = (
        select(s.home_region, s.outcome_code, s.outcome_region, func.count())
        .where(s.outcome_code.is_not(None))
        .group_by(s.home_region, s.outcome_code, s.outcome_region)
    )
    counts: Counter[tuple[str, str]] = Counter()
    for home, code, region, leads in await connection.execute(statement):
        to = flow_target(home, OutcomeCode(code), None if region is None else Region(region))
        if to is not None:
            counts[(home, to)] += int(leads)
    return flows_from(counts)


async def _lead_times(connection: AsyncConnection) -> LeadTimes:
    s = lead_summaries.c
    statement = select(s.needed_by, s.signalled_at).where(s.needed_by.is_not(None))
    rows = await connection.execute(statement)
    return lead_times_from([(needed_by - signalled_at.date()).days for needed_by, signalled_at in rows])


async def _partner_times(connection: AsyncConnection) -> list[PartnerTimes]:
    r = partner_requests.c
    by_partner: dict[str, list[float | None]] = defaultdict(list)
    for partner_id, sent_at, answered_at in await connection.execute(
        select(r.partner_id, r.sent_at, r.answered_at)
    ):
        elapsed = (answered_at - sent_at).total_seconds() / 86400 if answered_at else None
        by_partner[partner_id].append(elapsed)
    return partner_times_from(by_partner)
