"""Publishing a report: store the period's figures (once), write HTML and XLSX, e-mail the coordinator.

Used by `groeiruimte report PERIOD` and by ReportWorkflow's activity (workflows/reports.py).
"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from services.audit.reports import ReportError, StoredReport, generate_report, load_report
from services.persistence.event_store import SqlEventStore
from services.reports.content import ReportContent, report_content
from services.reports.html import report_html
from services.reports.mail import ReportMailer
from services.reports.periods import FINAL, ReportKind, ReportPeriod, parse_period, report_file_stem
from services.reports.xlsx import workbook_bytes
from services.settings import Settings
from workflows.reports import ReportResult


async def store_figures(
    store: SqlEventStore, settings: Settings, period: ReportPeriod
) -> StoredReport | None:
    """The stored figures of the period's last half-year, generated now if need be; None while it runs."""
    if not period.finished(datetime.now(UTC)):
        return None
    try:
        return await load_report(store, period.anchor)
    except ReportError:
        pass
    try:
        return await generate_report(store, settings, period.anchor)
    except ReportError:  # stored by a concurrent run in the meantime
        return await load_report(store, period.anchor)


def with_companions(period: ReportPeriod, settings: Settings) -> list[ReportPeriod]:
    """A second half-year brings the annual report along; the programme's last one the final report."""
    periods = [period]
    if period.kind is ReportKind.HALF_YEAR and period.code.endswith("H2"):
        periods.append(parse_period(period.code[:4], settings.programme_start, settings.programme_end))
    final = parse_period(FINAL, settings.programme_start, settings.programme_end)
    if period.kind is not ReportKind.FINAL and period.anchor == final.anchor:
        periods.append(final)
    return periods


def write_files(report: ReportContent, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / report_file_stem(report.period)
    html, xlsx = stem.with_suffix(".html"), stem.with_suffix(".xlsx")
    html.write_text(report_html(report, standalone=True), encoding="utf-8")
    xlsx.write_bytes(workbook_bytes(report))
    return [html, xlsx]


class ReportPublisherService:
    """Implements workflows.reports.ReportPublisher."""

    def __init__(self, settings: Settings, store: SqlEventStore, *, mail: bool = True) -> None:
        self._settings = settings
        self._store = store
        self._mailer = ReportMailer(settings, store.engine) if mail else None

    async def publish(self, period: str, delivery_id: str) -> ReportResult:
        settings = self._settings
        periods = with_companions(
            parse_period(period, settings.programme_start, settings.programme_end), settings
        )
        await store_figures(self._store, settings, periods[0])
        reports, files = [], []
        for each in periods:
            report = await report_content(
                self._store, settings, each, now=datetime.now(UTC), for_ministry=False
            )
            reports.append(report)
            files += await asyncio.to_thread(write_files, report, settings.var_dir / "reports")
        mailed = await self._mailer.send(reports, files, delivery_id) if self._mailer else []
        return ReportResult(
            period=period,
            files=[str(f) for f in files],
            mailed_to=mailed,
            figures_hash=reports[0].figures_hash,
        )
