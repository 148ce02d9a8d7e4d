"""The real system as a user starts it: `groeiruimte run` (Temporal dev server, worker, projector, API)."""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.auth import Role, mint_token
from services.settings import Settings
from tests.conftest import create_postgres_database, drop_postgres_database

STARTUP_SECONDS = 120


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768-60999).

    Ports the OS hands out for "any free port" (the Temporal dev server's HTTP and metrics ports, client
    sockets) come from the ephemeral range; a port chosen there now could be taken by them before our
    process binds it.
    """
    for _ in range(200):
        port = random.randint(20000, 32000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


@dataclass
class Stack:
    """A running system and how to reach it."""

    api_url: str
    temporal_url: str
    database_url: str
    settings: Settings
    launcher: subprocess.Popen[bytes]
    log_path: Path
    temporal_ui_url: str = ""

    @property
    def mail_folder(self) -> Path:
        return self.log_path.parent / "var" / "mail"

    def token(self, role: Role, org: str, sub: str | None = None) -> str:
        return mint_token(self.settings, role=role, org=org, sub=sub or f"{role.value}@{org}")

    def client(self, role: Role, org: str, sub: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token(role, org, sub)}"}
        return httpx.AsyncClient(base_url=self.api_url, headers=headers, timeout=30)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


def _wait_until_ready(stack: Stack) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if stack.launcher.poll() is not None:
            pytest.fail(f"groeiruimte run exited early:\n{stack.log_tail()}")
        try:
            if httpx.get(f"{stack.api_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the system was not ready after {STARTUP_SECONDS}s:\n{stack.log_tail()}")


def start_stack(tmp: Path, database_url: str) -> Stack:
    api_port, temporal_port, ui_port, smtp_port = free_port(), free_port(), free_port(), free_port()
    environment = {
        **os.environ,
        "GROEIRUIMTE_DATABASE_URL": database_url,
        "GROEIRUIMTE_VAR_DIR": str(tmp / "var"),
        "GROEIRUIMTE_API_PORT": str(api_port),
        "GROEIRUIMTE_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "GROEIRUIMTE_TEMPORAL_UI_PORT": str(ui_port),
        "GROEIRUIMTE_PROJECTOR_POLL_SECONDS": "0.1",
        "GROEIRUIMTE_SMTP_PORT": str(smtp_port),
        # Tests poll fast from one address; the rate limits have their own test.
        "GROEIRUIMTE_RATE_LIMIT_ENABLED": "false",
        # Two API processes on one port, as a one-box deployment runs it: the journey must not depend
        # on which one answers (tests/e2e/test_health.py starts single-process ones).
        "GROEIRUIMTE_API_WORKERS": "2",
    }
    log_path = tmp / "stack.log"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run"],
        env=environment,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    settings = Settings(_env_file=None)
    stack = Stack(
        f"http://127.0.0.1:{api_port}",
        f"grpc://127.0.0.1:{temporal_port}",
        database_url,
        settings,
        launcher,
        log_path,
        f"http://127.0.0.1:{ui_port}",
    )
    _wait_until_ready(stack)
    return stack


def stop_stack(stack: Stack) -> int:
    """Ctrl-C, as a user would; returns the launcher's exit code."""
    if stack.launcher.poll() is None:
        stack.launcher.send_signal(signal.SIGINT)
    try:
        return stack.launcher.wait(timeout=40)
    except subprocess.TimeoutExpired:
        stack.launcher.kill()
        raise


@pytest.fixture(scope="module")
async def database_for_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """PostgreSQL where available (always in CI), SQLite otherwise."""
    try:
        name, url = await create_postgres_database()
    except pytest.skip.Exception:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'groeiruimte.db'}"
        return
    try:
        yield url
    finally:
        await drop_postgres_database(name)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database_for_stack: str) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("stack"), database_for_stack)
    yield running
    stop_stack(running)
