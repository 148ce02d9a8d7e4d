"""What an operator watches on the real processes (`groeiruimte worker`, `projector`, `api`) next to a
Temporal dev server, on a SQLite file: the worker's and the projector's own `/livez`, `/readyz` and
`/metrics`, and one command's trace across the API and worker processes, sent to an OTLP receiver."""

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from services.auth import Role, mint_token
from services.binaries import find_binary
from services.settings import Settings
from tests.e2e.conftest import free_port
from tests.otlp_receiver import OtlpReceiver

pytestmark = pytest.mark.e2e
STARTUP_SECONDS = 60


@dataclass
class Processes:
    tmp: Path
    receiver: OtlpReceiver
    temporal_port: int = field(default_factory=free_port)
    ports: dict[str, int] = field(default_factory=dict)
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def environment(self, **settings: str) -> dict[str, str]:
        variables = {k: v for k, v in os.environ.items() if not k.startswith(("GROEIRUIMTE_", "OTEL_"))}
        return variables | {
            "GROEIRUIMTE_DATABASE_URL": f"sqlite+aiosqlite:///{self.tmp / 'groeiruimte.db'}",
            "GROEIRUIMTE_VAR_DIR": str(self.tmp / "var"),
            "GROEIRUIMTE_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "GROEIRUIMTE_PROJECTOR_POLL_SECONDS": "0.1",
            "GROEIRUIMTE_OTEL_EXPORTER_OTLP_ENDPOINT": self.receiver.url,
            "OTEL_BSP_SCHEDULE_DELAY": "200",  # export spans within a moment, not after 5 s
            **{f"GROEIRUIMTE_{name.upper()}": value for name, value in settings.items()},
        }

    def start_temporal(self) -> None:
        command = [
            str(find_binary("temporal")), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--port", str(self.temporal_port), "--log-level", "warn",
        ]  # fmt: skip
        self._start("temporal", command, os.environ.copy())

    def start_app(self, name: str, command: str, **settings: str) -> None:
        """`groeiruimte <command>` with its health endpoints (the API: itself) on a port of its own."""
        self.ports[name] = free_port()
        port_setting = "api_port" if command == "api" else f"{command}_health_port"
        settings[port_setting] = str(self.ports[name])
        self._start(name, [sys.executable, "-m", "services.cli", command], self.environment(**settings))

    def _start(self, name: str, command: list[str], environment: dict[str, str]) -> None:
        with (self.tmp / f"{name}.log").open("ab") as log:
            self.children[name] = subprocess.Popen(
                command, env=environment, stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self, name: str) -> None:
        child = self.children[name]
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)

    def log_tail(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    async def get(self, name: str, path: str) -> httpx.Response | None:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                return await client.get(f"http://127.0.0.1:{self.ports[name]}{path}")
        except httpx.HTTPError:
            return None

    async def until(self, name: str, path: str, status: int) -> httpx.Response:
        """Poll until `path` of process `name` answers `status`; fail with its log otherwise."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.children[name].poll() is not None:
                pytest.fail(f"{name} exited:\n{self.log_tail(name)}")
            response = await self.get(name, path)
            if response is not None and response.status_code == status:
                return response
            await asyncio.sleep(0.2)
        pytest.fail(f"{name} {path} did not answer {status} in {STARTUP_SECONDS}s:\n{self.log_tail(name)}")


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    receiver = OtlpReceiver()
    receiver.start()
    running = Processes(tmp_path_factory.mktemp("health"), receiver)
    try:
        running.start_temporal()
        migration = subprocess.run(
            [sys.executable, "-m", "services.cli", "migrate"],
            env=running.environment(),
            capture_output=True,
            timeout=120,
        )
        assert migration.returncode == 0, migration.stderr.decode()[-3000:]
        running.start_app("worker", "worker")
        running.start_app("api", "api", rate_limit_enabled="false", api_keepalive_requests="3")
        running.start_app("projector", "projector")
        # Nothing listens on this port: the database is unreachable from the start.
        unreachable = f"postgresql+asyncpg://groeiruimte@127.0.0.1:{free_port()}/groeiruimte"
        running.start_app("projector-without-database", "projector", database_url=unreachable)
        yield running
    finally:
        for name in running.children:
            running.stop(name)
        receiver.stop()


async def test_one_command_is_one_trace_across_the_api_and_worker_processes(processes: Processes) -> None:
    await processes.until("api", "/readyz", 200)
    await processes.until("worker", "/readyz", 200)
    token = mint_token(Settings(_env_file=None), role=Role.TASKFORCE, org="bom", sub="anna@bom.nl")
    lead = {"company": {"name": "Traceerbaar B.V."}, "owner_org": "bom", "home_region": "zuid"}
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"http://127.0.0.1:{processes.ports['api']}/v1/leads",
            json=lead,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "traced-e2e"},
        )
    assert response.status_code == 201, response.text
    trace_id = bytes.fromhex(response.headers["X-Correlation-ID"])

    def services_of(names: set[str]) -> dict[str, str]:
        spans = [(r, s) for r, s in processes.receiver.received() if s.trace_id == trace_id]
        return {span.name: resource["service.name"] for resource, span in spans if span.name in names}

    expected = {
        "POST /v1/leads": "groeiruimte-api",
        "StartUpdateWithStartWorkflow:LeadWorkflow": "groeiruimte-api",
        "RunWorkflow:LeadWorkflow": "groeiruimte-worker",
        "RunActivity:append_events": "groeiruimte-worker",
    }
    for _ in range(150):  # the processes export every 200 ms
        if services_of(set(expected)) == expected:
            break
        await asyncio.sleep(0.2)
    assert services_of(set(expected)) == expected


async def test_the_api_closes_a_keep_alive_connection_once_it_has_served_its_requests(
    processes: Processes,
) -> None:
    """GROEIRUIMTE_API_KEEPALIVE_REQUESTS=3 here: the third answer on a connection closes it, on the
    real server (the answer's header alone would not show the server lets go)."""
    await processes.until("api", "/readyz", 200)
    reader, writer = await asyncio.open_connection("127.0.0.1", processes.ports["api"])
    heads = []
    try:
        for _ in range(3):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: api\r\n\r\n")
            head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).lower()
            length = re.search(rb"content-length: (\d+)", head)
            assert length is not None, head
            await reader.readexactly(int(length[1]))
            heads.append(head)
        assert [b"connection: close" in head for head in heads] == [False, False, True]
        assert await asyncio.wait_for(reader.read(), 10) == b""  # the server closed it
    finally:
        writer.close()


async def test_worker_is_ready_once_it_polls_its_task_queue_and_not_while_temporal_is_away(
    processes: Processes,
) -> None:
    ready = await processes.until("worker", "/readyz", 200)
    assert ready.json() == {
        "status": "ready",
        "checks": {"worker_running": True, "temporal": True, "polling": True},
    }
    live = await processes.until("worker", "/livez", 200)
    assert live.json()["status"] == "ok"
    metrics = await processes.until("worker", "/metrics", 200)
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "python_info" in metrics.text

    processes.stop("temporal")
    not_ready = await processes.until("worker", "/readyz", 503)
    assert not_ready.json() == {
        "status": "not ready",
        "checks": {"worker_running": True, "temporal": False, "polling": False},
    }
    assert (await processes.until("worker", "/livez", 200)).json()["checks"] == {"worker_running": True}

    processes.start_temporal()
    await processes.until("worker", "/readyz", 200)


async def test_projector_is_ready_with_its_lag_while_the_database_answers(processes: Processes) -> None:
    ready = await processes.until("projector", "/readyz", 200)
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": True, "lag_events": 0, "lag_seconds": 0.0},
    }
    assert (await processes.until("projector", "/livez", 200)).json()["status"] == "ok"
    metrics = await processes.until("projector", "/metrics", 200)
    assert "groeiruimte_projection_lag_events 0.0" in metrics.text
    missing = await processes.get("projector", "/nothing-here")
    assert missing is not None and missing.status_code == 404


async def test_projector_without_its_database_is_alive_but_not_ready(processes: Processes) -> None:
    live = await processes.until("projector-without-database", "/livez", 200)
    assert live.json() == {"status": "ok", "checks": {"event_loop": True}}
    not_ready = await processes.until("projector-without-database", "/readyz", 503)
    assert not_ready.json() == {"status": "not ready", "checks": {"database": False}}
    assert processes.children["projector-without-database"].poll() is None, "it waits for the database"
