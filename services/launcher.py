"""`groeiruimte run`: the whole system on one machine, as child processes stopped together."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from services.auth import Role, mint_token
from services.binaries import find_binary
from services.settings import Settings


class LaunchError(Exception):
    """A process of the system did not start."""


@dataclass
class Launcher:
    settings: Settings
    start_temporal: bool = True
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self) -> None:
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        if self.start_temporal:
            self._start_temporal()
        self._run_cli("migrate")
        names = ["worker", "projector", "api"]
        if self.settings.run_mailcatcher and self.settings.environment == "development":
            names.insert(0, "mailcatcher")
        for name in names:
            environment = {**os.environ, **self._codec_environment()} if name == "api" else None
            self.children[name] = subprocess.Popen(
                [sys.executable, "-m", "services.cli", name], env=environment
            )
        wait_for_port(self.settings.api_host, self.settings.api_port, timeout=60)
        if os.environ.get("GROEIRUIMTE_DEMO") == "1":  # first start: fill an empty system with demo data
            print("loading demo data (groeiruimte demo --if-empty) ...", flush=True)
            subprocess.run([sys.executable, "-m", "services.cli", "demo", "--if-empty"], check=False)

    def _start_temporal(self) -> None:
        host, _, port = self.settings.temporal_address.rpartition(":")
        command = [
            str(find_binary("temporal")), "server", "start-dev",
            "--ip", host, "--port", port, "--ui-port", str(self.settings.temporal_ui_port),
            "--db-filename", str(self.settings.var_dir / "temporal.db"),
            "--namespace", self.settings.temporal_namespace, "--log-level", "warn",
            # Bursts of commands on one lead: the default of 10 in-flight updates answers some with 503.
            "--dynamic-config-value", "history.maxInFlightUpdates=100",
        ]  # fmt: skip
        if self._codec_environment():  # the UI shows decoded histories through the API's codec
            command += ["--ui-codec-endpoint", f"{self.settings.api_url}/codec"]
        log = (self.settings.var_dir / "temporal.log").open("ab")
        self.children["temporal"] = subprocess.Popen(command, stdout=log, stderr=log)
        wait_for_port(host, int(port), timeout=60)

    def _codec_environment(self) -> dict[str, str]:
        """Development: the dev server's Temporal UI (no sign-in) may call the API's codec endpoint."""
        if self.settings.environment != "development" or not self.start_temporal:
            return {}
        port = self.settings.temporal_ui_port
        origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
        return {
            "GROEIRUIMTE_CODEC_DEVELOPMENT_OPEN": "true",
            "GROEIRUIMTE_CODEC_CORS_ORIGINS": json.dumps(origins),
        }

    def _run_cli(self, *arguments: str) -> None:
        subprocess.run([sys.executable, "-m", "services.cli", *arguments], check=True)

    def wait(self) -> int:
        """Block until Ctrl-C/SIGTERM (exit 0) or until a child exits (exit 1); then stop the others."""
        stopping = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stopping.set())
        try:
            while not stopping.is_set() and self._all_running():
                stopping.wait(0.5)
            # A terminal's Ctrl-C reaches the children too; give our own handler a moment to notice.
            if stopping.wait(1.0):
                return 0
            failed = [name for name, child in self.children.items() if child.poll() is not None]
            print(f"stopped because {', '.join(failed)} exited", file=sys.stderr)
            return 1
        finally:
            self.stop()

    def _all_running(self) -> bool:
        return all(child.poll() is None for child in self.children.values())

    def stop(self) -> None:
        for child in reversed(list(self.children.values())):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in self.children.values():
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()

    def banner(self) -> str:
        url = self.settings.api_url
        database = self.settings.effective_database_url.split("@")[-1]
        return "\n".join([
            "", "groeiruimte is running",
            f"  web UI       {url}/ui/  (sign in as a demo user)",
            f"  API          {url}/v1/leads",
            f"  API docs     {url}/docs",
            f"  Temporal UI  http://127.0.0.1:{self.settings.temporal_ui_port}",
            f"  database     {database}",
            f"  mail         {self.settings.var_dir / 'mail'} (reminders land here as .eml files)",
            *self._token_lines(),
            "  stop with Ctrl-C", "",
        ])  # fmt: skip

    def _token_lines(self) -> list[str]:
        """A development token to start with; production has none (tokens come from the OIDC provider)."""
        if self.settings.development_secret is None:
            return ["  sign in through the OIDC provider (production)"]
        token = mint_token(self.settings, role=Role.TASKFORCE, org="bom", sub="demo.taskforce@bom.nl")
        return [
            f"  a development token (taskforce, BOM), valid for {self.settings.token_ttl_hours} hours:",
            f"    export TOKEN={token}",
            "  more tokens:  .venv/bin/groeiruimte token --role coordinator --org nfia",
            "  demo data:    .venv/bin/groeiruimte demo   (an empty system; or GROEIRUIMTE_DEMO=1 make run)",
        ]


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise LaunchError(f"nothing listens on {host}:{port} after {timeout:.0f}s")
