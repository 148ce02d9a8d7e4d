"""The real system as separate processes the tests start, kill and restart one by one.

Temporal dev server (persistent `--db-filename` under tmp), worker, projector and API, each its own
subprocess, on a fresh PostgreSQL. Where the PostgreSQL server binaries are installed, the stack gets a
private PostgreSQL cluster on a free port, so stopping and restarting the database disturbs no other test;
otherwise a fresh database on the shared server, and the database-restart tests skip.
"""

import asyncio
import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from services.auth import Role, mint_token
from services.binaries import find_binary
from services.settings import Settings
from tests.conftest import POSTGRES_ADMIN_DSN, create_postgres_database, drop_postgres_database
from tests.e2e.conftest import free_port

STARTUP_SECONDS = 60
APP_PROCESSES = ("worker", "projector", "api")
# Short, so a command nobody can answer comes back as 503 quickly (production waits 15 s).
COMMAND_TIMEOUT_SECONDS = 4
# As deploy/compose.yaml and deploy/helm/temporal-values.yaml configure Temporal: the server's default of
# 10 in-flight updates per workflow makes a burst of commands on one lead wait out the SDK's retry backoff.
TEMPORAL_DYNAMIC_CONFIG = ("history.maxInFlightUpdates=100",)


async def eventually(check: Callable[[], Awaitable[Any]], within: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within:.0f}s: {what}")
        await asyncio.sleep(0.1)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of our own, as the `postgres` OS user when we run as root."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="groeiruimte-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def available(cls) -> "PrivatePostgres | None":
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
        found = shutil.which("initdb") or (candidates[-1] if candidates else None)
        if found is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
            return None
        return cls(Path(found).parent)

    def _run(self, *command: str) -> None:
        subprocess.run(self._as_owner(command), check=True, capture_output=True, timeout=60)

    def _as_owner(self, command: tuple[str, ...]) -> list[str]:
        # initdb and postgres refuse to run as root.
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        initdb = str(self.bin_dir / "initdb")
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        pg_ctl = str(self.bin_dir / "pg_ctl")
        self._run(
            pg_ctl, "-D", str(self.data), "-l", str(self.root / "postgres.log"), "-o", options, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    async def create_database(self) -> str:
        name = f"gr_faults_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(self.dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"


def _version_key(path: str) -> float:
    with contextlib.suppress(ValueError):
        return float(Path(path).parts[-3])
    return 0.0


@dataclass
class FaultStack:
    """The processes of one system, by name, and how to reach it."""

    tmp: Path
    database_url: str  # as the owner: migrations, and the tests' own look into the database
    app_database_url: str  # as a login role in groeiruimte_app, as production connects (README)
    postgres: PrivatePostgres | None
    api_port: int = field(default_factory=free_port)
    temporal_port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    settings: Settings = field(default_factory=lambda: Settings(_env_file=None))

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def dsn(self) -> str:
        """The database for asyncpg, as the superuser the tests inspect and lock it with."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    def environment(self, database_url: str | None = None) -> dict[str, str]:
        variables = {k: v for k, v in os.environ.items() if not k.startswith("GROEIRUIMTE_")}
        return variables | {
            "GROEIRUIMTE_DATABASE_URL": database_url or self.app_database_url,
            "GROEIRUIMTE_VAR_DIR": str(self.tmp / "var"),
            "GROEIRUIMTE_API_PORT": str(self.api_port),
            "GROEIRUIMTE_TEMPORAL_ADDRESS": self.temporal_address,
            "GROEIRUIMTE_COMMAND_TIMEOUT_SECONDS": str(COMMAND_TIMEOUT_SECONDS),
            "GROEIRUIMTE_PROJECTOR_POLL_SECONDS": "0.1",
            # Small batches: a projector killed mid-stream is killed mid-batch.
            "GROEIRUIMTE_PROJECTOR_BATCH_SIZE": "5",
            "GROEIRUIMTE_SMTP_PORT": str(self.smtp_port),
            # Tests poll fast from one address; the rate limits have their own test.
            "GROEIRUIMTE_RATE_LIMIT_ENABLED": "false",
        }

    def log(self, name: str) -> Path:
        return self.tmp / f"{name}.log"

    def log_tail(self, name: str) -> str:
        return self.log(name).read_text(errors="replace")[-4000:] if self.log(name).exists() else ""

    # --- processes --------------------------------------------------------------------------------------

    def start(self, name: str) -> subprocess.Popen[bytes]:
        if name == "temporal":
            command = [
                str(find_binary("temporal")), "server", "start-dev", "--headless",
                "--ip", "127.0.0.1", "--port", str(self.temporal_port),
                "--db-filename", str(self.tmp / "temporal.db"),
                "--namespace", self.settings.temporal_namespace, "--log-level", "warn",
            ]  # fmt: skip
            for value in TEMPORAL_DYNAMIC_CONFIG:
                command += ["--dynamic-config-value", value]
        else:
            command = [sys.executable, "-m", "services.cli", name]
        with self.log(name).open("ab") as log:
            self.children[name] = subprocess.Popen(
                command, env=self.environment(), stdout=log, stderr=subprocess.STDOUT
            )
        return self.children[name]

    def kill(self, name: str) -> None:
        """`kill -9`: no shutdown handler runs."""
        child = self.children[name]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)

    def stop(self, name: str) -> None:
        child = self.children[name]
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)

    def stop_all(self, grace: float = 3) -> None:
        """SIGTERM to every process at once; SIGKILL to whatever still runs after `grace` seconds."""
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.children.values():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)

    def running(self, name: str) -> bool:
        return self.children[name].poll() is None

    def migrate(self) -> subprocess.Popen[bytes]:
        with self.log("migrate").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "services.cli", "migrate"],
                env=self.environment(self.database_url),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def rebuild_projections(self) -> int:
        """What `groeiruimte projections rebuild` does, in this process (a new one takes seconds to start)."""
        from services.processes import rebuild_projections

        return await rebuild_projections(Settings(_env_file=None, database_url=self.app_database_url))

    # --- readiness --------------------------------------------------------------------------------------

    async def readiness(self) -> httpx.Response | None:
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                return await client.get(f"{self.api_url}/readyz")
        except httpx.HTTPError:
            return None

    async def wait_for_temporal(self) -> Client:
        async def connected() -> Client | None:
            if not self.running("temporal"):
                pytest.fail(f"the Temporal dev server exited:\n{self.log_tail('temporal')}")
            try:
                return await Client.connect(self.temporal_address, namespace=self.settings.temporal_namespace)
            except Exception:  # not up yet: the SDK raises RuntimeError, or an RPCError
                return None

        client: Client = await eventually(connected, STARTUP_SECONDS, "the Temporal dev server answers")
        return client

    async def wait_for_api(self) -> None:
        async def ready() -> bool:
            if not self.running("api"):
                pytest.fail(f"the API exited:\n{self.log_tail('api')}")
            response = await self.readiness()
            return response is not None and response.status_code == 200

        await eventually(ready, STARTUP_SECONDS, "the API reports ready")

    async def wait_for_worker(self) -> None:
        """Until the worker process we started polls the task queue (its identity starts with its pid)."""
        pid = self.children["worker"].pid
        temporal = await self.wait_for_temporal()
        request = DescribeTaskQueueRequest(
            namespace=self.settings.temporal_namespace,
            task_queue=TaskQueue(name=self.settings.temporal_task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )

        async def polling() -> bool:
            if not self.running("worker"):
                pytest.fail(f"the worker exited:\n{self.log_tail('worker')}")
            described = await temporal.workflow_service.describe_task_queue(request)
            return any(poller.identity.startswith(f"{pid}@") for poller in described.pollers)

        await eventually(polling, STARTUP_SECONDS, "the worker polls the task queue")

    async def wait_for_projector(self) -> None:
        """Until the read models are current with the whole log."""

        async def caught_up() -> bool:
            if not self.running("projector"):
                pytest.fail(f"the projector exited:\n{self.log_tail('projector')}")
            head, checkpoint = await self.log_head_and_checkpoint()
            return head == checkpoint

        await eventually(caught_up, 30, "the projector catches up with the log")

    # --- the database, as the tests see it --------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        connection = await asyncpg.connect(self.dsn)
        try:
            yield connection
        finally:
            await connection.close()

    async def log_head_and_checkpoint(self) -> tuple[int, int]:
        async with self.connection() as db:
            head = await db.fetchval("SELECT last_position FROM log_head WHERE id = 1")
            checkpoint = await db.fetchval("SELECT max(position) FROM projection_checkpoints")
        return int(head), int(checkpoint)

    @contextlib.asynccontextmanager
    async def row_locked(self, table: str, where: str, *arguments: Any) -> AsyncIterator[None]:
        """Hold a row lock (SELECT … FOR UPDATE) until the block ends: writers of that row wait."""
        async with self.connection() as db, db.transaction():
            locked = await db.fetch(f"SELECT 1 FROM {table} WHERE {where} FOR UPDATE", *arguments)
            assert locked, f"nothing to lock in {table} where {where}"
            yield

    async def wait_for_lock_waiters(self, count: int) -> None:
        """Until `count` other sessions on our database wait for a lock (so they are mid-transaction)."""

        async def waiting() -> bool:
            async with self.connection() as db:
                waiters = await db.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            return int(waiters) >= count

        await eventually(waiting, 20, f"{count} sessions wait on the held lock")

    async def wait_for_commands_in_log(self, keys: list[str], within: float) -> None:
        """Until every one of these commands (Idempotency-Keys) has its events in the log."""

        async def all_logged() -> bool:
            logged = {row["command_id"] for row in await self.events()}
            return set(keys) <= logged

        await eventually(all_logged, within, f"{len(keys)} commands reach the event log")

    async def events(self) -> list[asyncpg.Record]:
        async with self.connection() as db:
            return list(
                await db.fetch(
                    "SELECT position, event_id, stream_id, stream_version, type,"
                    " metadata::jsonb ->> 'command_id' AS command_id FROM events ORDER BY position"
                )
            )

    async def read_models(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every read-model row, in primary-key order."""
        from services.projections.tables import READ_MODEL_TABLES

        dump = {}
        async with self.connection() as db:
            for table in READ_MODEL_TABLES:
                keys = ", ".join(column.name for column in table.primary_key.columns)
                rows = await db.fetch(f"SELECT * FROM {table.name} ORDER BY {keys}")
                dump[table.name] = [tuple(row.values()) for row in rows]
        return dump

    # --- HTTP -------------------------------------------------------------------------------------------

    def client(self, role: Role = Role.TASKFORCE, org: str = "bom") -> httpx.AsyncClient:
        token = mint_token(self.settings, role=role, org=org, sub=f"{role.value}@{org}")
        return httpx.AsyncClient(
            base_url=self.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultStack]:
    tmp = tmp_path_factory.mktemp("faults")
    postgres = PrivatePostgres.available()
    if postgres is not None:
        try:
            postgres.init()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            postgres.destroy()
            postgres = None
    shared_name = None
    if postgres is not None:
        database_url = await postgres.create_database()
    else:
        shared_name, database_url = await create_postgres_database()
    app_role = f"gr_faults_app_{uuid.uuid4().hex[:8]}"
    await _create_app_login_role(database_url, app_role)
    app_database_url = database_url.replace("://postgres@", f"://{app_role}@", 1)
    running = FaultStack(tmp, database_url, app_database_url, postgres)
    try:
        # In parallel where nothing depends on it (two cores; each Python process takes seconds to start):
        # the API and the projector refuse to start on a database that is not migrated yet.
        running.start("temporal")
        migration = running.migrate()
        running.start("worker")
        if await asyncio.to_thread(migration.wait, 120) != 0:
            pytest.fail(f"groeiruimte migrate failed:\n{running.log_tail('migrate')}")
        running.start("api")
        running.start("projector")
        await running.wait_for_api()
        await running.wait_for_worker()
        yield running
    finally:
        running.stop_all()
        if postgres is not None:
            postgres.destroy()
        if shared_name is not None:
            await drop_postgres_database(shared_name)
            await _drop_role(app_role)


async def _create_app_login_role(database_url: str, role: str) -> None:
    """A login role in groeiruimte_app (which the first migration creates the same way, if missing)."""
    async with _connected(database_url) as db:
        await db.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'groeiruimte_app')"
            " THEN CREATE ROLE groeiruimte_app NOLOGIN; END IF; END $$"
        )
        await db.execute(f"CREATE ROLE {role} LOGIN IN ROLE groeiruimte_app")


async def _drop_role(role: str) -> None:
    async with _connected(POSTGRES_ADMIN_DSN) as db:
        await db.execute(f"DROP ROLE IF EXISTS {role}")


@contextlib.asynccontextmanager
async def _connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def restore(stack: FaultStack) -> AsyncIterator[None]:
    """Whatever a test killed or stopped runs again for the next test."""
    yield
    if stack.postgres is not None and not await _postgres_answers(stack):
        stack.postgres.start()
    for name in ("temporal", *APP_PROCESSES):
        if not stack.running(name):
            stack.start(name)
    await stack.wait_for_api()
    await stack.wait_for_worker()


async def _postgres_answers(stack: FaultStack) -> bool:
    try:
        async with stack.connection():
            return True
    except (OSError, asyncpg.PostgresError):
        return False
