"""The `groeiruimte` command line."""

import asyncio
import logging
import sys

import typer
from pydantic import ValidationError

from services.auth import Role, mint_token
from services.cli_audit import audit_app
from services.log_masking import register_secrets, secrets_of
from services.observability import configure_logging
from services.reports.cli import report_command
from services.settings import Settings
from services.web.demo.cli import demo_command

app = typer.Typer(
    help="groeiruimte: the deeptech scale-up programme's workflow service.", no_args_is_help=True
)
projections = typer.Typer(help="Read models built from the event log.", no_args_is_help=True)
app.add_typer(projections, name="projections")
app.add_typer(audit_app, name="audit")
app.command("report")(report_command)
app.command("demo")(demo_command)


def _settings() -> Settings:
    """The settings, or a clear refusal (never the values themselves: they may be secrets)."""
    configure_logging(logging.INFO)
    try:
        settings = Settings()
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]) for e in error.errors())
        typer.echo(f"groeiruimte refuses to start: {reasons}", err=True)
        raise typer.Exit(2) from None
    register_secrets(secrets_of(settings))
    return settings


@app.command()
def run(temporal: bool = typer.Option(True, help="Start the Temporal dev server too.")) -> None:
    """Start everything on one machine: Temporal dev server, worker, projector and API."""
    from services.launcher import Launcher

    launcher = Launcher(_settings(), start_temporal=temporal)
    try:
        launcher.start()
        print(launcher.banner(), flush=True)
    except Exception:
        launcher.stop()
        raise
    raise typer.Exit(launcher.wait())


@app.command()
def api() -> None:
    """Serve the HTTP API."""
    from services.processes import run_api

    run_api(_settings())


@app.command()
def worker() -> None:
    """Run the Temporal worker for lead workflows."""
    from services.processes import run_worker

    asyncio.run(run_worker(_settings()))


@app.command()
def projector() -> None:
    """Tail the event log into the read models."""
    from services.processes import run_projector

    asyncio.run(run_projector(_settings()))


@app.command()
def mailcatcher() -> None:
    """A local SMTP server for development that keeps mails under var/mail/."""
    from services.processes import run_mailcatcher

    asyncio.run(run_mailcatcher(_settings()))


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from services.persistence.migrate import upgrade_database

    settings = _settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(upgrade_database(settings.effective_database_url))
    typer.echo("database is up to date")


@app.command()
def token(
    role: Role = typer.Option(..., help="taskforce, coordinator, partner, auditor, ministry or admin"),
    org: str = typer.Option(..., help="organisation slug, e.g. bom or provincie-gelderland"),
    sub: str | None = typer.Option(None, help="the user's name; defaults to <role>@<org>"),
) -> None:
    """Print a development token."""
    typer.echo(mint_token(_settings(), role=role, org=org, sub=sub or f"{role.value}@{org}"))


@projections.command("rebuild")
def rebuild(
    workers: int | None = typer.Option(
        None, min=1, help="processes that fold the log; default: one per core"
    ),
    batch_size: int | None = typer.Option(
        None, min=1, help="events written per transaction; default 400,000 (more: faster, more memory)"
    ),
) -> None:
    """Rebuild every read model from the event log."""
    from services.processes import rebuild_projections

    applied = asyncio.run(rebuild_projections(_settings(), workers=workers, batch_size=batch_size))
    typer.echo(f"rebuilt read models from {applied} events")


workflows = typer.Typer(help="The leads' Temporal workflows.", no_args_is_help=True)
app.add_typer(workflows, name="workflows")


@workflows.command("restore")
def restore_workflows(
    dry_run: bool = typer.Option(False, "--dry-run", help="only say which leads would be restarted"),
) -> None:
    """Start the workflow of every open lead whose workflow Temporal lost, from its state in the log."""
    from services.processes import restore_workflows as run_restore

    report = asyncio.run(run_restore(_settings(), dry_run=dry_run))
    verb = "would restart" if dry_run else "restarted"
    typer.echo(
        f"{verb} {len(report.restarted)} lead workflow(s); {len(report.running)} running, "
        f"{len(report.closed)} closed"
    )
    for lead_id in report.restarted:
        typer.echo(f"  {verb}: {lead_id}")


if __name__ == "__main__":
    sys.exit(app())
