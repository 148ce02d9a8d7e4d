"""What a report holds: the impact figures as of its cut-off, the breakdowns, the half-year series and text.

A finished period whose figures were stored (`groeiruimte audit report-figures`, `groeiruimte report`)
is computed from the log exactly as it stood then (`known_at`, `log_position`): recomputing it later
gives the same report. Otherwise the report is provisional, pinned at the log's current head.
"""

from dataclasses import dataclass
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from events.state import LeadState
from services.audit.chain import read_log_head
from services.audit.impact import count_impact, lead_states
from services.audit.reports import ReportError, cut_off_of, load_report
from services.persistence.event_store import SqlEventStore
from services.projections.impact import ImpactReport, impact_report
from services.reports.breakdowns import Breakdowns, breakdowns
from services.reports.narratives import NarrativePublic, latest_narrative
from services.reports.periods import ReportKind, ReportPeriod
from services.reports.suppression import suppressed
from services.settings import Settings


class HalfYearFigures(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    as_of: AwareDatetime
    values: dict[str, float]
    pro_rata_targets: dict[str, float]


class ReportContent(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    anchor: str
    kind: ReportKind
    title: str
    cut_off: AwareDatetime
    as_of: AwareDatetime
    provisional: bool
    stored: bool
    known_at: AwareDatetime
    log_position: int
    figures_hash: str | None
    impact: ImpactReport
    series: list[HalfYearFigures]
    breakdowns: Breakdowns
    narratives: list[NarrativePublic]


@dataclass(frozen=True)
class _Pin:
    """Which log the report reads: up to `log_position`, as recorded by `known_at`, as of `as_of`."""

    as_of: datetime
    known_at: datetime
    log_position: int
    impact: ImpactReport | None = None
    figures_hash: str | None = None


async def report_content(
    store: SqlEventStore, settings: Settings, period: ReportPeriod, *, now: datetime, for_ministry: bool
) -> ReportContent:
    """The report of `period`; for the ministry with small cells suppressed and no partner figures."""
    pin = await _pin(store, period, now)
    states = await _states(store, pin, pin.as_of)
    impact = pin.impact or _impact(settings, states, pin.as_of)
    found = breakdowns(states, pin.as_of)
    return ReportContent(
        period=period.code,
        anchor=period.anchor,
        kind=period.kind,
        title=period.title,
        cut_off=period.cut_off,
        as_of=pin.as_of,
        provisional=not period.finished(now),
        stored=pin.figures_hash is not None,
        known_at=pin.known_at,
        log_position=pin.log_position,
        figures_hash=pin.figures_hash,
        impact=impact,
        series=await _series(store, settings, period, pin),
        breakdowns=suppressed(found) if for_ministry else found,
        narratives=[await latest_narrative(store.engine, half) for half in period.half_years],
    )


async def _pin(store: SqlEventStore, period: ReportPeriod, now: datetime) -> _Pin:
    if period.finished(now):
        try:
            stored = await load_report(store, period.anchor)
        except ReportError:
            pass
        else:
            impact = ImpactReport.model_validate(stored.figures)
            return _Pin(stored.cut_off, stored.known_at, stored.log_position, impact, stored.figures_hash)
    head = await read_log_head(store.engine)
    return _Pin(min(period.cut_off, now), head.recorded_at or now, head.position)


async def _states(store: SqlEventStore, pin: _Pin, as_of: datetime) -> list[LeadState]:
    return await lead_states(store, as_of=as_of, known_at=pin.known_at, through_position=pin.log_position)


def _impact(settings: Settings, states: list[LeadState], as_of: datetime) -> ImpactReport:
    return impact_report(
        count_impact(states),
        targets=settings.targets,
        programme_start=settings.programme_start,
        programme_end=settings.programme_end,
        as_of=as_of,
    )


async def _series(
    store: SqlEventStore, settings: Settings, period: ReportPeriod, pin: _Pin
) -> list[HalfYearFigures]:
    """Annual and final reports: the figures at the end of each half-year they cover (so far)."""
    if period.kind is ReportKind.HALF_YEAR:
        return []
    series = []
    for half in period.half_years:
        as_of = min(cut_off_of(half), pin.as_of)
        impact = _impact(settings, await _states(store, pin, as_of), as_of)
        series.append(_half_year(half, impact))
        if as_of == pin.as_of:
            break
    return series


def _half_year(half: str, impact: ImpactReport) -> HalfYearFigures:
    figures = impact.figures.model_dump()
    return HalfYearFigures(
        period=half,
        as_of=impact.as_of,
        values={name: float(figure["value"]) for name, figure in figures.items()},
        pro_rata_targets={name: float(figure["pro_rata_target"]) for name, figure in figures.items()},
    )
