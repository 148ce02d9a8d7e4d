"""Half-year reports: figures computed from the log as of the cut-off, stored with their hash, re-checkable.

A report pins what the log held when it was generated (`known_at`, `log_position`), so recomputing it
later from the same log gives the same figures; `check_report` shows when it does not.
"""

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from events.hashing import canonical_json
from services.audit.chain import read_log_head
from services.audit.impact import impact_from_log
from services.audit.tables import reports
from services.persistence.event_store import SqlEventStore
from services.projections.impact import ImpactReport
from services.settings import ImpactTargets, Settings

_PERIOD = re.compile(r"^(\d{4})-H([12])$")


class ReportError(Exception):
    """A report that cannot be generated or checked as asked."""


class StoredReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    cut_off: AwareDatetime
    known_at: AwareDatetime
    log_position: int
    generated_at: AwareDatetime
    figures: dict[str, Any]
    figures_hash: str


class ReportCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    ok: bool
    problems: list[str]


def cut_off_of(period: str) -> datetime:
    """The last instant of a half-year such as "2026-H2": 30 June or 31 December, 23:59:59.999999Z."""
    match = _PERIOD.match(period)
    if match is None:
        raise ReportError(f"a period is written like 2026-H1 or 2026-H2, not {period!r}")
    year, half = int(match.group(1)), int(match.group(2))
    month, day = (6, 30) if half == 1 else (12, 31)
    return datetime(year, month, day, 23, 59, 59, 999_999, tzinfo=UTC)


def figures_hash(figures: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(figures).encode()).hexdigest()


async def generate_report(store: SqlEventStore, settings: Settings, period: str) -> StoredReport:
    """Compute a finished half-year's figures as of its cut-off from the log as it stands, and store them."""
    cut_off, now = cut_off_of(period), datetime.now(UTC)
    if now <= cut_off:
        raise ReportError(f"{period} ends at {cut_off.isoformat()}; report it after that")
    head = await read_log_head(store.engine)
    known_at = head.recorded_at or now
    figures = await impact_from_log(
        store,
        targets=settings.targets,
        programme_start=settings.programme_start,
        programme_end=settings.programme_end,
        as_of=cut_off,
        known_at=known_at,
        through_position=head.position,
    )
    dumped = figures.model_dump(mode="json")
    report = StoredReport(
        period=period,
        cut_off=cut_off,
        known_at=known_at,
        log_position=head.position,
        generated_at=now,
        figures=dumped,
        figures_hash=figures_hash(dumped),
    )
    try:
        async with store.engine.begin() as connection:
            await connection.execute(insert(reports).values(**report.model_dump()))
    except IntegrityError as error:
        raise ReportError(f"{period} has already been reported") from error
    return report


async def load_report(store: SqlEventStore, period: str) -> StoredReport:
    async with store.engine.connect() as connection:
        row = (await connection.execute(select(reports).where(reports.c.period == period))).one_or_none()
    if row is None:
        raise ReportError(f"no report has been stored for {period}")
    return StoredReport.model_validate(row._asdict())


async def check_report(store: SqlEventStore, period: str) -> ReportCheck:
    """Recompute a stored report from the log (with its own targets and period) and compare."""
    stored = await load_report(store, period)
    problems = []
    if figures_hash(stored.figures) != stored.figures_hash:
        problems.append("the stored figures do not match their stored hash")
    try:
        recomputed = (await _recompute(store, stored)).model_dump(mode="json")
    except ValidationError as error:
        return ReportCheck(period=period, ok=False, problems=[*problems, f"not a report: {error}"])
    if figures_hash(recomputed) != stored.figures_hash:
        problems.append("the figures recomputed from the log differ from the report")
    problems += _differences(stored.figures.get("figures", {}), recomputed["figures"])
    return ReportCheck(period=period, ok=not problems, problems=problems)


async def _recompute(store: SqlEventStore, stored: StoredReport) -> ImpactReport:
    reported = ImpactReport.model_validate(stored.figures)
    targets = ImpactTargets(
        **{name: getattr(reported.figures, name).target for name in ImpactTargets.model_fields}
    )
    return await impact_from_log(
        store,
        targets=targets,
        programme_start=reported.period.start,
        programme_end=reported.period.end,
        as_of=stored.cut_off,
        known_at=stored.known_at,
        through_position=stored.log_position,
    )


def _differences(reported: dict[str, Any], recomputed: dict[str, Any]) -> list[str]:
    return [
        f"{name}: reported {reported.get(name)}, recomputed {value}"
        for name, value in recomputed.items()
        if reported.get(name) != value
    ]
