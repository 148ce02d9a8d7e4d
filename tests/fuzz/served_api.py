"""The real API served over HTTP on 127.0.0.1 from a thread of its own: uvicorn, a worker on Temporal's
time-skipping test server, the projector, a migrated SQLite file. For tests that need a URL."""

import asyncio
import contextlib
import threading
import uuid
from pathlib import Path

import uvicorn
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.binaries import find_binary
from services.container import Container
from services.lead_commands import LeadCommandService
from services.partners import PartnerRegistry
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.persistence.migrate import upgrade_database
from services.projections.projector import Projector
from services.settings import Settings
from services.temporal import data_converter
from tests.e2e.conftest import free_port
from tests.fakes import RecordingNotifier
from workflows.worker import build_worker

STARTUP_SECONDS = 60


class ServedApi:
    """Start with `start()`, stop with `stop()`; `url` is where the API answers."""

    def __init__(self, directory: Path) -> None:
        self.settings = Settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{directory / 'fuzz.db'}",
            temporal_task_queue=f"fuzz-{uuid.uuid4()}",
            command_timeout_seconds=20,
            rate_limit_enabled=False,
        )
        self.url = f"http://127.0.0.1:{free_port()}"
        self._server: uvicorn.Server | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(STARTUP_SECONDS) or self._failure is not None:
            raise RuntimeError(f"the API did not start: {self._failure!r}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start()
            self._failure = error
            self._ready.set()

    async def _serve(self) -> None:
        settings = self.settings
        await upgrade_database(settings.effective_database_url)
        engine = create_engine(settings.effective_database_url)
        store = SqlEventStore(engine)
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=data_converter(settings),
            test_server_existing_path=str(find_binary("temporal-test-server")),
        )
        commands = LeadCommandService(env.client, store, settings)
        container = Container(settings, engine, store, env.client, commands, PartnerRegistry(engine))
        config = uvicorn.Config(
            create_app(settings, container), host="127.0.0.1", port=int(self.url.rsplit(":", 1)[1]),
            log_level="warning", lifespan="off",
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        stop = asyncio.Event()
        try:
            async with build_worker(env.client, settings.temporal_task_queue, store, RecordingNotifier()):
                projector = asyncio.create_task(Projector(engine).run(stop, 0.05))
                serving = asyncio.create_task(self._server.serve())
                await self._until_started(serving)
                self._ready.set()
                await serving
                stop.set()
                await projector
        finally:
            with contextlib.suppress(Exception):
                await env.shutdown()
            await engine.dispose()

    async def _until_started(self, serving: "asyncio.Task[None]") -> None:
        assert self._server is not None
        for _ in range(STARTUP_SECONDS * 20):
            if self._server.started or serving.done():
                return
            await asyncio.sleep(0.05)  # uvicorn offers no event for "listening"
