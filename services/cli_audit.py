"""`groeiruimte audit …`: verify the chain, export a case file, report and re-check half-years, replay."""

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

import typer

from events.errors import LeadNotFoundError
from events.store import Actor
from services.audit.access_log import AccessEntries, ProcessingActivity, write_entries
from services.audit.export import case_file, case_file_name
from services.audit.reports import ReportError, check_report, generate_report
from services.audit.verify import VerificationReport, verify_lead, verify_log
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.settings import Settings

if TYPE_CHECKING:
    from services.audit.replay import ReplayOutcome

audit_app = typer.Typer(help="Chain verification, case files, reports and replay.", no_args_is_help=True)

_T = TypeVar("_T")


def _with_store(work: Callable[[SqlEventStore, Settings], Awaitable[_T]]) -> _T:
    """Run `work` against the configured database, then dispose of the engine."""

    async def run() -> _T:
        settings = Settings()
        engine = create_engine(settings.effective_database_url)
        store = SqlEventStore(engine)
        try:
            return await work(store, settings)
        finally:
            await store.close()
            await engine.dispose()

    return asyncio.run(run())


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@audit_app.command()
def verify(lead: UUID | None = typer.Option(None, "--lead", help="Verify only this lead's events.")) -> None:
    """Walk the hash chain (the whole log, or one lead up to the head); exit 1 on a break."""

    async def work(store: SqlEventStore, _: Settings) -> VerificationReport:
        return await (verify_log(store) if lead is None else verify_lead(store, lead))

    try:
        report = _with_store(work)
    except LeadNotFoundError as error:
        raise _fail(str(error), 2) from error
    if not report.ok:
        raise _fail(
            f"BROKEN at position {report.first_broken_position}: {report.problem} "
            f"({report.verified} events of {report.scope} verified before it)"
        )
    typer.echo(
        f"OK: {report.verified} events of {report.scope} verified; "
        f"log head {report.head_position} has hash {report.head_hash}"
    )


@audit_app.command()
def export(
    lead_id: UUID,
    out: Path | None = typer.Option(None, "--out", help="Where to write; default ./lead-<id>.casefile.jsonl"),
) -> None:
    """Write a lead's case file: its events as CloudEvents JSON lines, chained to the log head."""
    operator = Actor(sub=getpass.getuser(), org="groeiruimte", role="operator")

    async def work(store: SqlEventStore, _: Settings) -> str:
        content = await case_file(store.engine, lead_id, operator)
        entry = AccessEntries(
            at=datetime.now(UTC),
            **operator.model_dump(),
            lead_ids=[str(lead_id)],
            endpoint="groeiruimte audit export",
            trace_id=f"cli-{lead_id}-{datetime.now(UTC):%Y%m%dT%H%M%S}",
            processing_activity=ProcessingActivity.VERANTWOORDING,
        )
        await write_entries(store.engine, [entry])
        return content

    try:
        content = _with_store(work)
    except LeadNotFoundError as error:
        raise _fail(str(error), 2) from error
    target = out or Path(case_file_name(lead_id))
    target.write_text(content, encoding="utf-8")
    typer.echo(f"wrote {target}; check it with: python -m services.audit.verify_export {target}")


@audit_app.command("report-figures")
def report_figures(period: str = typer.Argument(..., help="A finished half-year, e.g. 2026-H1")) -> None:
    """Compute a half-year's impact figures as of its cut-off from the log, and store them with their hash."""
    try:
        report = _with_store(lambda store, settings: generate_report(store, settings, period))
    except ReportError as error:
        raise _fail(str(error)) from error
    typer.echo(
        f"stored {report.period}: as of {report.cut_off.isoformat()}, log up to position "
        f"{report.log_position}; figures hash {report.figures_hash}"
    )


@audit_app.command("check-report")
def check_report_command(period: str = typer.Argument(..., help="A reported half-year")) -> None:
    """Recompute a stored report from the log and compare figures and hash; exit 1 on a mismatch."""
    try:
        check = _with_store(lambda store, _: check_report(store, period))
    except ReportError as error:
        raise _fail(str(error), 2) from error
    if not check.ok:
        raise _fail("MISMATCH in " + period + ":\n  " + "\n  ".join(check.problems))
    typer.echo(f"OK: {period} recomputes to the stored figures and hash")


@audit_app.command("replay-workflow")
def replay_workflow(lead_id: UUID) -> None:
    """Replay the lead's live workflow history (every run) against the current LeadWorkflow code."""
    from temporalio.service import RPCError

    from services.audit.replay import lead_histories, replay
    from services.temporal import connect_temporal, data_converter

    async def work() -> list["ReplayOutcome"]:
        settings = Settings()
        client = await connect_temporal(settings)
        return await replay(await lead_histories(client, lead_id), data_converter(settings))

    try:
        outcomes = asyncio.run(work())
    except RPCError as error:
        raise _fail(f"cannot fetch the workflow history: {error.message}", 2) from error
    for outcome in outcomes:
        verdict = outcome.failure or "replays deterministically"
        typer.echo(f"run {outcome.run_id} ({outcome.events} history events): {verdict}")
    if any(outcome.failure for outcome in outcomes):
        raise typer.Exit(1)
