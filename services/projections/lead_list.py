"""The lead list, scoped by who asks: what a caller may not see is never selected, nor counted.

A `LeadScope` carries the access matrix (services/access.py) into SQL: every lead is listed for the roles
that may list leads, but only the leads a caller may see in full come back in full (its organisation's
own and those whose case team it is on), and the company's name only where its identity is visible
(the owner, the coordinator, auditors, organisations it was disclosed to). Filtering on what a caller
sees only as a code name (the owner, overdue partner requests) matches only leads it sees in full, and a
search matches the company's name only where the caller may see it, so a match never gives a hidden name away.
"""

from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, case, false, func, literal, null, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.reference import CompanyStage, Domain, OutcomeCode, Province, Region
from events.state import Stage
from services.projections.read_cache import cached
from services.projections.tables import lead_domains, lead_summaries, partner_requests


class LeadSummaryRow(BaseModel):
    """A lead as lists show it: the read model's denormalised columns, and what the caller may see."""

    model_config = ConfigDict(frozen=True)

    lead_id: UUID
    code_name: str
    stage: Stage
    owner_org: str
    home_region: Region
    province: Province | None
    municipality: str | None
    company_name: str | None
    company_stage: CompanyStage
    domains: list[Domain]
    needed_by: date | None
    signalled_at: datetime
    articulation_completed_at: datetime | None
    decided_at: datetime | None
    closed_at: datetime | None
    outcome_code: OutcomeCode | None
    outcome_region: Region | None
    outcome_investment_eur: float | None
    outcome_jobs: int | None
    confirmed_investment_eur: float | None
    investment_confirmed_at: datetime | None
    became_scale_up_at: datetime | None
    demand_count: int
    open_partner_requests: int
    last_event_at: datetime
    version: int
    # What the caller may see, not part of the row as answered (excluded from its JSON and dumps).
    full: bool = Field(default=True, exclude=True)
    identity: bool = Field(default=True, exclude=True)


@dataclass(frozen=True)
class LeadScope:
    """Whose view of the list: `org` None sees every lead in full, with identity (or none at all)."""

    org: str | None = None
    visible: bool = True

    @classmethod
    def everything(cls) -> "LeadScope":
        return cls()


UNSCOPED = LeadScope.everything()
_COLUMNS = [c for c in lead_summaries.columns if c.name in LeadSummaryRow.model_fields]


def _listed(column: Any, org: str) -> ColumnElement[bool]:
    """Whether the JSON list `column` of the lead's state holds `org` (portable: SQLite and PostgreSQL)."""
    as_text = func.coalesce(lead_summaries.c.state[column].as_string(), "")
    return as_text.contains(f'"{org}"', autoescape=True)


def _full(scope: LeadScope) -> ColumnElement[bool]:
    if scope.org is None:
        return true()
    return or_(lead_summaries.c.owner_org == scope.org, _listed("case_team", scope.org))


def _identity(scope: LeadScope) -> ColumnElement[bool]:
    if scope.org is None:
        return true()
    return or_(lead_summaries.c.owner_org == scope.org, _listed("disclosed_to", scope.org))


def _flag(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return case((condition, literal(True)), else_=literal(False))


def _selected(scope: LeadScope) -> list[Any]:
    s = lead_summaries.c
    columns: list[Any] = [c for c in _COLUMNS if c.name != "company_name"]
    company = case((_identity(scope), s.company_name), else_=null())
    return [*columns, company.label("company_name"), _flag(_full(scope)).label("full"),
            _flag(_identity(scope)).label("identity")]  # fmt: skip


def _search(scope: LeadScope, text: str) -> ColumnElement[bool]:
    """The code name contains the text, or the company's name does where the caller sees the identity."""
    s = lead_summaries.c
    in_company = and_(_identity(scope), s.company_name.icontains(text, autoescape=True))
    return or_(s.code_name.icontains(text, autoescape=True), in_company)


def _overdue(scope: LeadScope, today: date) -> ColumnElement[bool]:
    """The lead has an open partner request whose due date lies before `today`, and the caller sees it in
    full (requests are not part of the brief view, so a filter on them must not reveal them)."""
    r = partner_requests.c
    late = select(r.lead_id).where(r.status == "open", r.due_date < today)
    return and_(lead_summaries.c.lead_id.in_(late), _full(scope))


def _conditions(scope: LeadScope, filters: dict[str, str | None]) -> list[ColumnElement[bool]]:
    s = lead_summaries.c
    conditions: list[ColumnElement[bool]] = [] if scope.visible else [false()]
    if filters["stage"] is not None:
        conditions.append(s.stage == filters["stage"])
    if filters["region"] is not None:
        conditions.append(s.home_region == filters["region"])
    if filters["owner_org"] is not None:
        conditions += [s.owner_org == filters["owner_org"], _full(scope)]
    if filters["domain"] is not None:
        with_domain = select(lead_domains.c.lead_id).where(lead_domains.c.domain == filters["domain"])
        conditions.append(s.lead_id.in_(with_domain))
    if filters["search"]:
        conditions.append(_search(scope, filters["search"]))
    return conditions


class LeadListPage(BaseModel):
    """The number of leads matching, and one page of them: a value the read cache can hand out as is."""

    model_config = ConfigDict(frozen=True)

    count: int
    rows: tuple[LeadSummaryRow, ...]


async def list_leads(
    engine: AsyncEngine,
    *,
    scope: LeadScope = UNSCOPED,
    stage: str | None = None,
    region: str | None = None,
    domain: str | None = None,
    owner_org: str | None = None,
    search: str | None = None,
    overdue_on: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[LeadSummaryRow]]:
    """The number of leads in scope matching every filter, and one page of them, newest signalled first.
    With `overdue_on`, only leads with an open partner request due before that day.

    Both come from one snapshot of the read models, and are kept until the projection checkpoint moves
    (services/projections/read_cache.py): asking again for the same page costs one read of the checkpoint.
    """
    text = search.strip() if search else None
    filters = {"stage": stage, "region": region, "domain": domain, "owner_org": owner_org, "search": text}
    key = ("lead_list", scope, *filters.values(), overdue_on, limit, offset)
    compute = partial(_page, scope=scope, filters=filters, overdue_on=overdue_on, limit=limit, offset=offset)
    page = await cached(engine, key, compute)
    return page.count, list(page.rows)


async def _page(
    connection: AsyncConnection,
    *,
    scope: LeadScope,
    filters: dict[str, str | None],
    overdue_on: date | None,
    limit: int,
    offset: int,
) -> LeadListPage:
    conditions = _conditions(scope, filters)
    if overdue_on is not None:
        conditions.append(_overdue(scope, overdue_on))
    s = lead_summaries.c
    counting = select(func.count()).select_from(lead_summaries).where(*conditions)
    page = (
        select(*_selected(scope))
        .where(*conditions)
        .order_by(s.signalled_at.desc(), s.lead_id)
        .limit(limit)
        .offset(offset)
    )
    count = (await connection.execute(counting)).scalar_one()
    rows = (await connection.execute(page)).all()
    return LeadListPage(
        count=int(count), rows=tuple(LeadSummaryRow.model_validate(dict(r._mapping)) for r in rows)
    )
