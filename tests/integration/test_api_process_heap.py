"""An API worker process about to serve: its start-up objects frozen out of garbage collection, and the
young generation collected after API_GC_THRESHOLD allocations instead of Python's 700."""

import json
import os
import subprocess
import sys
from pathlib import Path

from services.processes import API_GC_THRESHOLD

PROBE = """
import gc, json
from services.processes import api_from_environment
before = gc.get_threshold()
api_from_environment()
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def test_a_worker_process_freezes_its_start_up_objects_and_collects_less_often(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GROEIRUIMTE_")} | {
        "GROEIRUIMTE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'groeiruimte.db'}",
        "GROEIRUIMTE_VAR_DIR": str(tmp_path / "var"),
    }
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, capture_output=True, text=True, timeout=120
    )

    assert probe.returncode == 0, probe.stderr[-3000:]
    heap = json.loads(probe.stdout.strip().splitlines()[-1])
    assert heap["before"][0] == 700  # Python's default, for contrast
    assert heap["after"] == [API_GC_THRESHOLD, *heap["before"][1:]]
    assert heap["frozen"] > 10_000  # modules, the app and its routes


SUPERVISOR_PROBE = """
import gc, json
import uvicorn
from services import processes
from services.settings import Settings
seen = {}
uvicorn.run = lambda *args, **kwargs: seen.update(frozen=gc.get_freeze_count(), workers=kwargs["workers"])
processes.run_api(Settings(_env_file=None, api_workers=2))
print(json.dumps(seen))
"""


def test_the_supervisor_of_several_workers_freezes_what_it_has_imported(tmp_path: Path) -> None:
    """It serves nothing, but a full collection of its heap took ~0.1 s of a core every half minute or
    so, and on two cores the workers' requests waited for it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GROEIRUIMTE_")} | {
        "GROEIRUIMTE_VAR_DIR": str(tmp_path / "var"),
    }
    probe = subprocess.run(
        [sys.executable, "-c", SUPERVISOR_PROBE], env=environment, capture_output=True, text=True, timeout=120
    )

    assert probe.returncode == 0, probe.stderr[-3000:]
    supervisor = json.loads(probe.stdout.strip().splitlines()[-1])
    assert supervisor["workers"] == 2
    assert supervisor["frozen"] > 10_000
