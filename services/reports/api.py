"""Routes: the dashboard's breakdowns and flows, and the reports (JSON, HTML, XLSX) with their text."""

from datetime import UTC, datetime

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel

from events.errors import InvalidCommandError
from services.access import require_role
from services.api.deps import ContainerDep, CurrentUser
from services.auth import Principal, Role
from services.reports.breakdowns import Breakdowns, Flow
from services.reports.content import ReportContent, report_content
from services.reports.dashboard import current_breakdowns
from services.reports.html import report_html
from services.reports.narratives import (
    NarrativeConflictError,
    NarrativePublic,
    NarrativeUpdate,
    latest_narrative,
    save_narrative,
)
from services.reports.periods import (
    ReportKind,
    ReportPeriod,
    ReportPeriodError,
    parse_period,
    periods_until,
    report_file_stem,
)
from services.reports.suppression import suppressed
from services.reports.xlsx import workbook_bytes
from services.settings import Settings

router = APIRouter(tags=["reports"])
MONITORING_ROLES = frozenset({Role.TASKFORCE, Role.COORDINATOR, Role.AUDITOR, Role.MINISTRY})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FlowsPublic(BaseModel):
    as_of: AwareDatetime
    flows: list[Flow]
    suppressed: bool


class ReportListing(BaseModel):
    period: str
    kind: ReportKind
    title: str
    cut_off: AwareDatetime
    finished: bool


def aggregates_only(user: Principal) -> bool:
    """The ministry sees aggregates only: small cells suppressed (DESIGN §8)."""
    return user.role is Role.MINISTRY


@router.get("/v1/monitoring/breakdowns")
async def get_breakdowns(user: CurrentUser, container: ContainerDep) -> Breakdowns:
    """Funnel, stages, bottlenecks (leads per region x demand kind), flows, lead times, partner times."""
    require_role(user, MONITORING_ROLES, "see monitoring figures")
    found = await current_breakdowns(container.engine, datetime.now(UTC))
    return suppressed(found) if aggregates_only(user) else found


@router.get("/v1/monitoring/flows")
async def get_flows(user: CurrentUser, container: ContainerDep) -> FlowsPublic:
    """Realised outcomes from home region to the region of realisation (and departures abroad)."""
    found = await get_breakdowns(user, container)
    return FlowsPublic(as_of=found.as_of, flows=found.flows, suppressed=found.suppressed)


@router.get("/v1/reports")
async def list_reports(user: CurrentUser, container: ContainerDep) -> list[ReportListing]:
    """Every half-year and year begun so far, and the final report; finished ones can be stored."""
    require_role(user, MONITORING_ROLES, "see reports")
    settings, now = container.settings, datetime.now(UTC)
    return [
        ReportListing(period=p.code, kind=p.kind, title=p.title, cut_off=p.cut_off, finished=p.finished(now))
        for p in periods_until(now, settings.programme_start, settings.programme_end)
    ]


@router.get("/v1/reports/{period}")
async def get_report(period: str, user: CurrentUser, container: ContainerDep) -> ReportContent:
    """The report's figures as of its cut-off (provisional while the period runs or until stored)."""
    require_role(user, MONITORING_ROLES, "see reports")
    return await report_content(
        container.store,
        container.settings,
        _period(container.settings, period),
        now=datetime.now(UTC),
        for_ministry=aggregates_only(user),
    )


@router.get("/v1/reports/{period}/html", response_class=HTMLResponse)
async def get_report_html(period: str, user: CurrentUser, container: ContainerDep) -> HTMLResponse:
    """The printable report."""
    return HTMLResponse(report_html(await get_report(period, user, container)))


@router.get("/v1/reports/{period}/xlsx", response_class=Response)
async def get_report_xlsx(period: str, user: CurrentUser, container: ContainerDep) -> Response:
    """The report as an XLSX workbook."""
    report = await get_report(period, user, container)
    disposition = f'attachment; filename="{report_file_stem(report.period)}.xlsx"'
    return Response(workbook_bytes(report), media_type=XLSX, headers={"Content-Disposition": disposition})


@router.get("/v1/reports/{period}/narrative")
async def get_narrative(period: str, user: CurrentUser, container: ContainerDep) -> NarrativePublic:
    require_role(user, MONITORING_ROLES, "see reports")
    return await latest_narrative(container.engine, _half_year(container.settings, period).code)


@router.put("/v1/reports/{period}/narrative")
async def put_narrative(
    period: str, body: NarrativeUpdate, user: CurrentUser, container: ContainerDep
) -> NarrativePublic:
    """The coordinator records the half-year's qualitative text; every version is kept."""
    require_role(user, frozenset({Role.COORDINATOR}), "write the qualitative text of reports")
    half_year = _half_year(container.settings, period).code
    try:
        return await save_narrative(container.engine, half_year, body, written_by=user.sub)
    except NarrativeConflictError as error:
        raise InvalidCommandError(str(error), "based_on_version", "stale") from error


def _period(settings: Settings, code: str) -> ReportPeriod:
    try:
        return parse_period(code, settings.programme_start, settings.programme_end)
    except ReportPeriodError as error:
        raise InvalidCommandError(str(error), "period", "invalid") from error


def _half_year(settings: Settings, code: str) -> ReportPeriod:
    period = _period(settings, code)
    if period.kind is not ReportKind.HALF_YEAR:
        raise InvalidCommandError("qualitative text is kept per half-year, e.g. 2026-H1", "period", "invalid")
    return period
