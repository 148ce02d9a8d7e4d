"""`groeiruimte report PERIOD`: store the figures, write HTML and XLSX under var/reports/, mail them."""

import asyncio
from datetime import UTC, datetime

import aiosmtplib
import typer

from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.reports.periods import ReportPeriodError
from services.reports.publish import ReportPublisherService
from services.settings import Settings
from workflows.reports import ReportResult


def report_command(
    period: str = typer.Argument(..., help="A half-year (2026-H2), a year (2026: annual report) or final"),
    mail: bool = typer.Option(True, "--mail/--no-mail", help="E-mail the coordinator (SMTP settings)."),
) -> None:
    """Generate a report by hand, as the June/December schedule does."""

    async def work() -> ReportResult:
        settings = Settings()
        engine = create_engine(settings.effective_database_url)
        store = SqlEventStore(engine)
        try:
            publisher = ReportPublisherService(settings, store, mail=mail)
            return await publisher.publish(period, f"report-{period}-cli-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        finally:
            await store.close()
            await engine.dispose()

    try:
        result = asyncio.run(work())
    except ReportPeriodError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    except (aiosmtplib.SMTPException, OSError) as error:
        typer.echo(f"the report was written under var/reports/ but not mailed: {error}", err=True)
        raise typer.Exit(1) from error
    status = f"figures hash {result.figures_hash}" if result.figures_hash else "provisional (not stored)"
    typer.echo(f"{period}: {status}")
    for path in result.files:
        typer.echo(f"  wrote {path}")
    if result.mailed_to:
        typer.echo(f"  mailed to {', '.join(result.mailed_to)}")
