"""Typed queries on the read models: lead lists, a lead's state, the pipeline, inboxes, impact figures."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.reference import REALISED_OUTCOMES, OutcomeCode, Region
from events.state import LeadState, Stage
from services.projections.impact import ImpactCounts, ImpactReport, impact_report
from services.projections.lead_list import LeadScope, LeadSummaryRow, list_leads
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
    statement = select(lead_summaries.c.state).where(lead_summaries.c.lead_id == str(lead_id))
    async with engine.connect() as connection:
        state = (await connection.execute(statement)).scalar_one_or_none()
    return None if state is None else LeadState.model_validate(state)


async def pipeline(engine: AsyncEngine) -> dict[str, int]:
    """The number of leads in each stage; every stage is present."""
    statement = select(lead_summaries.c.stage, func.count()).group_by(lead_summaries.c.stage)
    async with engine.connect() as connection:
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


async def _impact_counts(engine: AsyncEngine, as_of: datetime) -> ImpactCounts:
    s = lead_summaries.c
    realised = and_(s.outcome_code.in_([code.value for code in REALISED_OUTCOMES]), s.decided_at <= as_of)
    other_region = and_(s.outcome_code == OutcomeCode.REALISED_OTHER_REGION.value, s.decided_at <= as_of)
    confirmed = and_(realised, s.investment_confirmed_at <= as_of)
    statement = select(
        func.count().filter(s.signalled_at <= as_of),
        func.count().filter(s.articulation_completed_at <= as_of),
        func.count().filter(other_region),
        func.count().filter(and_(other_region, s.became_scale_up_at <= as_of)),
        _total(s.outcome_investment_eur, realised),
        _total(s.confirmed_investment_eur, confirmed),
    ).select_from(lead_summaries)
    async with engine.connect() as connection:
        leads, approaches, other, scale_ups, committed, confirmed_eur = (
            await connection.execute(statement)
        ).one()
    return ImpactCounts(
        leads_in_portfolio=int(leads),
        case_approaches_started=int(approaches),
        realised_other_region=int(other),
        new_scale_ups=int(scale_ups),
        committed_investment_eur=float(committed),
        confirmed_investment_eur=float(confirmed_eur),
    )


def _total(column: Any, condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column).filter(condition), 0.0)
