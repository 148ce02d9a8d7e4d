"""`groeiruimte demo`: fill an empty, running system with invented leads through its HTTP API."""

import asyncio
import time

import typer

from services.settings import Settings
from services.web.demo.runner import DemoError, NotEmptyError, load_demo


def demo_command(
    api_url: str | None = typer.Option(None, help="The API to fill; default: the configured one."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Exit quietly (0) when there are leads already."),
    seed: int = typer.Option(2025, help="Another seed gives other companies."),
) -> None:
    """Load a few dozen invented leads over regions, domains and stages (development only)."""
    settings = Settings()
    if settings.environment != "development":
        typer.echo("demodata bestaan alleen in de ontwikkelomgeving", err=True)
        raise typer.Exit(2)
    started = time.monotonic()
    try:
        result = asyncio.run(load_demo(settings, api_url or settings.api_url, seed=seed))
    except NotEmptyError as error:
        typer.echo(f"geen demodata geladen: {error}", err=True)
        raise typer.Exit(0 if if_empty else 1) from error
    except DemoError as error:
        typer.echo(f"demodata niet volledig geladen: {error}", err=True)
        raise typer.Exit(1) from error
    seconds = time.monotonic() - started
    typer.echo(f"{result.leads} demoleads geladen ({result.steps} stappen, {seconds:.0f} s)")
    typer.echo(f"bekijk ze op {api_url or settings.api_url}/ui/")
