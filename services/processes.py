"""Long-running processes: the worker, the projector and the API server."""

import asyncio
import gc
import logging
import signal

import httpx
import uvicorn
from fastapi import FastAPI
from prometheus_client import start_http_server

from services.api.app import create_app
from services.container import build_container, build_deliverer
from services.health import health_server, projector_probes, worker_probes
from services.log_masking import register_secrets, secrets_of
from services.notifications.mailcatcher import start_mailcatcher
from services.observability import configure_logging
from services.projections.projector import REBUILD_BATCH_SIZE, Projector
from services.reports.publish import ReportPublisherService
from services.settings import Settings
from services.tracing import start_tracing
from services.workflow_restore import RestoreReport, WorkflowRestorer
from workflows.reports import ReportsPlugin
from workflows.worker import build_worker

log = logging.getLogger("groeiruimte")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_worker(settings: Settings) -> None:
    """Run LeadWorkflow and its activities until SIGINT/SIGTERM."""
    tracing = start_tracing(settings, "worker")
    container = await build_container(settings)
    assert container.temporal is not None
    stop = _stop_on_signals()
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.api_host)
    async with httpx.AsyncClient() as http:
        notifier = build_deliverer(settings, container, http)
        reports = ReportsPlugin(ReportPublisherService(settings, container.store))
        worker = build_worker(
            container.temporal, settings.temporal_task_queue, container.store, notifier, plugins=[reports]
        )
        log.info("worker polling task queue %s", settings.temporal_task_queue)
        probes = worker_probes(container.temporal, worker)
        async with worker, health_server(settings.api_host, settings.worker_health_port, probes):
            await stop.wait()
    await container.close()
    if tracing is not None:
        tracing.shutdown()


async def run_mailcatcher(settings: Settings) -> None:
    """The development SMTP server: every mail lands in var/mail/ as an .eml file."""
    folder = settings.var_dir / "mail"
    controller = start_mailcatcher(folder, settings.smtp_host, settings.smtp_port)
    log.info("mail catcher on %s:%s, saving to %s", settings.smtp_host, settings.smtp_port, folder)
    await _stop_on_signals().wait()
    controller.stop()


async def run_projector(settings: Settings) -> None:
    """Tail the event log into the read models until SIGINT/SIGTERM."""
    container = await build_container(settings, with_temporal=False)
    projector = Projector(container.engine, batch_size=settings.projector_batch_size)
    log.info("projector tailing the event log")
    probes = projector_probes(container.engine)
    async with health_server(settings.api_host, settings.projector_health_port, probes):
        await projector.run(_stop_on_signals(), settings.projector_poll_seconds)
    await container.close()


async def rebuild_projections(
    settings: Settings, *, workers: int | None = None, batch_size: int | None = None
) -> int:
    batch_size = batch_size or REBUILD_BATCH_SIZE
    container = await build_container(settings, with_temporal=False)
    try:
        projector = Projector(
            container.engine,
            batch_size=min(settings.projector_batch_size, batch_size),
            rebuild_batch_size=batch_size,
            rebuild_workers=workers,
        )
        return await projector.rebuild()
    finally:
        await container.close()


async def restore_workflows(settings: Settings, *, dry_run: bool) -> RestoreReport:
    container = await build_container(settings)
    try:
        assert container.temporal is not None
        return await WorkflowRestorer(container.temporal, container.store, settings).restore(dry_run=dry_run)
    finally:
        await container.close()


def run_api(settings: Settings) -> None:
    # log_config=None: uvicorn's own lines (the access log too) go through our JSON handler, masked.
    if settings.api_workers > 1:
        # The supervisor serves nothing, but without this a full collection of what it has imported took
        # ~0.1 s of a core about every half minute (98 to 107 ms, measured), and the workers' requests
        # waited for the core it took: on two cores, a p99 of 60 to 100 ms instead of ~30 for a few seconds.
        gc.freeze()
        # Each worker process builds its app from the environment (the settings it was started with).
        uvicorn.run(
            "services.processes:api_from_environment",
            factory=True,
            workers=settings.api_workers,
            host=settings.api_host,
            port=settings.api_port,
            log_level="info",
            log_config=None,
        )
        return
    tracing = start_tracing(settings, "api")
    app = create_app(settings)
    settle_heap()
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info", log_config=None)
    if tracing is not None:
        tracing.shutdown()


def api_from_environment() -> FastAPI:
    """One API worker process's app (`GROEIRUIMTE_API_WORKERS` > 1): logging, masked secrets, tracing
    and settings set up as `groeiruimte api` sets them up in its own process."""
    configure_logging(logging.INFO)
    settings = Settings()
    register_secrets(secrets_of(settings))
    start_tracing(settings, "api")  # flushed by its batch processor; the process ends with the server
    app = create_app(settings)
    settle_heap()
    return app


# Collect the young generation after this many more container objects than were freed (Python's default
# is 700). A read allocates thousands of short-lived ones (a lead's state as JSON values alone) that
# reference counting frees: at 700 the collector still ran several times per request, 3-4 % of an API
# process's CPU (measured with gc.callbacks over 5,000 single-lead reads); at 10,000 it hardly runs.
API_GC_THRESHOLD = 10_000


def settle_heap() -> None:
    """For an API process about to serve: what exists now (modules, the app) lives as long as the
    process and is kept out of every collection; the young generation is collected less often."""
    gc.freeze()
    gc.set_threshold(API_GC_THRESHOLD, *gc.get_threshold()[1:])
