"""Typed queries on the read models: lead lists, a lead's state, the pipeline, inboxes, impact figures."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Text, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.reference import REALISED_OUTCOMES, OutcomeCode, Region
from events.state import LeadState, Stage
from services.persistence.engine import single_statements
from services.projections.impact import ImpactCounts, ImpactReport, impact_report
from services.projections.lead_list import LeadScope, LeadSummaryRow, list_leads
from services.projections.read_cache import cached, computed_at, current_generation, stored
from services.projections.tables import lead_summaries, partner_requests
from services.settings import ImpactTargets

__all__ = [
    "ImpactReport",
    "LeadScope",
    "LeadSummaryRow",
    "PartnerRequestRow",
    "find_partner_request",
    "get_lead_state",
    "impact_figures",
    "list_leads",
    "partner_inbox",
    "pipeline",
]

IMPACT_KEY = "impact_counts"
IMPACT_WINDOWS = 16  # spans of moments kept per checkpoint: `now` and a few dates asked for


class PartnerRequestRow(BaseModel):
    """A request to a partner as its inbox shows it (code name only, never the company)."""

    model_config = ConfigDict(frozen=True)

    request_id: UUID
    lead_id: UUID
    partner_id: str
    status: str
    question: str
    due_date: date
    sent_at: datetime
    answered_at: datetime | None
    answer: str | None
    demand_kinds: list[str]
    code_name: str
    home_region: Region
    company_name: str | None = None
    reminders_sent: int = 0
    escalated: bool = False


async def get_lead_state(engine: AsyncEngine, lead_id: UUID | str) -> LeadState | None:
    """The lead's current state as the read model holds it; None when it is unknown."""
    statement = select(lead_summaries.c.state.cast(Text)).where(lead_summaries.c.lead_id == str(lead_id))
    async with single_statements(engine).connect() as connection:
        state = (await connection.execute(statement)).scalar_one_or_none()
    return None if state is None else LeadState.model_validate_json(state)


async def pipeline(engine: AsyncEngine) -> dict[str, int]:
    """The number of leads in each stage; every stage is present. Counted once per checkpoint."""
    return await cached(engine, "pipeline", count_stages)


async def count_stages(connection: AsyncConnection) -> dict[str, int]:
    """The number of leads in each stage, read on `connection`."""
    statement = select(lead_summaries.c.stage, func.count()).group_by(lead_summaries.c.stage)
    counts = {stage: int(count) for stage, count in (await connection.execute(statement)).all()}
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}


async def partner_inbox(engine: AsyncEngine, partner_id: str) -> list[PartnerRequestRow]:
    """The requests addressed to one partner, newest first."""
    table = partner_requests
    statement = (
        select(table)
        .where(table.c.partner_id == partner_id)
        .order_by(table.c.sent_at.desc(), table.c.request_id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return [PartnerRequestRow.model_validate(dict(row._mapping)) for row in rows]


async def find_partner_request(engine: AsyncEngine, request_id: UUID | str) -> PartnerRequestRow | None:
    statement = select(partner_requests).where(partner_requests.c.request_id == str(request_id))
    async with engine.connect() as connection:
        row = (await connection.execute(statement)).one_or_none()
    return None if row is None else PartnerRequestRow.model_validate(dict(row._mapping))


async def impact_figures(
    engine: AsyncEngine,
    *,
    targets: ImpactTargets,
    programme_start: date,
    programme_end: date,
    as_of: datetime,
) -> ImpactReport:
    """The impact table as it stood at `as_of` in business time (DESIGN §7)."""
    counts = await _impact_counts(engine, as_of)
    return impact_report(
        counts, targets=targets, programme_start=programme_start, programme_end=programme_end, as_of=as_of
    )


@dataclass(frozen=True)
class _CountsWindow:
    """Impact counts as of a moment, and the span of moments with the same counts.

    The counts compare timestamps of the read model with `as_of`; they are the same for every moment
    from the latest timestamp at or before it (`since`) up to the first one after it (`until`).
    """

    counts: ImpactCounts
    since: datetime | None
    until: datetime | None

    def covers(self, moment: datetime) -> bool:
        return (self.since is None or self.since <= moment) and (self.until is None or moment < self.until)


async def _impact_counts(engine: AsyncEngine, as_of: datetime) -> ImpactCounts:
    """The counts as of `as_of`, computed once per checkpoint and span of moments with equal counts."""
    generation = await current_generation(engine)
    windows: tuple[_CountsWindow, ...] = generation.get(IMPACT_KEY) or ()
    found = next((w.counts for w in windows if w.covers(as_of)), None)
    if found is None:
        async with generation.lock(IMPACT_KEY):
            windows = generation.get(IMPACT_KEY) or ()
            found = next((w.counts for w in windows if w.covers(as_of)), None)
            if found is None:
                position, window = await computed_at(engine, partial(_counts_window, as_of=as_of))
                stored(generation, IMPACT_KEY, position, (*windows[-(IMPACT_WINDOWS - 1) :], window))
                found = window.counts
    return found


async def _counts_window(connection: AsyncConnection, as_of: datetime) -> _CountsWindow:
    s = lead_summaries.c
    realised = and_(s.outcome_code.in_([code.value for code in REALISED_OUTCOMES]), s.decided_at <= as_of)
    other_region = and_(s.outcome_code == OutcomeCode.REALISED_OTHER_REGION.value, s.decided_at <= as_of)
    confirmed = and_(realised, s.investment_confirmed_at <= as_of)
    moments = (s.signalled_at, s.articulation_completed_at, s.decided_at, s.became_scale_up_at,
               s.investment_confirmed_at)  # fmt: skip
    statement = select(
        func.count().filter(s.signalled_at <= as_of),
        func.count().filter(s.articulation_completed_at <= as_of),
        func.count().filter(other_region),
        func.count().filter(and_(other_region, s.became_scale_up_at <= as_of)),
        _total(s.outcome_investment_eur, realised),
        _total(s.confirmed_investment_eur, confirmed),
        *(func.max(moment).filter(moment <= as_of) for moment in moments),
        *(func.min(moment).filter(moment > as_of) for moment in moments),
    ).select_from(lead_summaries)
    row = (await connection.execute(statement)).one()
    leads, approaches, other, scale_ups, committed, confirmed_eur = row[:6]
    before, after = [m for m in row[6:11] if m is not None], [m for m in row[11:] if m is not None]
    counts = ImpactCounts(
        leads_in_portfolio=int(leads),
        case_approaches_started=int(approaches),
        realised_other_region=int(other),
        new_scale_ups=int(scale_ups),
        committed_investment_eur=float(committed),
        confirmed_investment_eur=float(confirmed_eur),
    )
    return _CountsWindow(counts, max(before, default=None), min(after, default=None))


def _total(column: Any, condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column).filter(condition), 0.0)
