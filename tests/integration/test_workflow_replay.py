"""Stored LeadWorkflow histories replay against the current code, so a change that would break running
leads fails the build. Re-record with `.venv/bin/python -m tests.histories.record` (see that script)."""

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker
from typer.testing import CliRunner

from events import commands as cmd
from events.details import Company, LeadDetails
from events.reference import Region
from events.store import Actor
from services.audit.replay import lead_replayer
from services.cli_audit import audit_app
from services.lead_commands import LeadCommandService
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from services.temporal import data_converter
from workflows.payloads import CommandInput

ACTOR = Actor(sub="anna@bom.nl", org="bom", role="taskforce")

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))
# Recorded before the payload codec: plaintext payloads, which must still replay.
PRE_CODEC = sorted((Path(__file__).parents[1] / "histories" / "pre_codec").glob("*.json"))
ENCRYPTED = '"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="'  # base64 of binary/encrypted


def _history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def test_stored_histories_cover_every_stage_and_the_timers() -> None:
    text = "".join(path.read_text(encoding="utf-8") for path in HISTORIES)
    scenarios = {path.name.split(".")[0] for path in HISTORIES}
    assert len(scenarios) >= 4
    for marker in ("EVENT_TYPE_TIMER_FIRED", "deliver_notification", "CONTINUED_AS_NEW", "COMPLETED"):
        assert marker in text


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_stored_history_replays_deterministically(path: Path) -> None:
    result = await lead_replayer(data_converter(Settings())).replay_workflow(
        _history(path), raise_on_replay_failure=False
    )
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


def test_stored_histories_are_encrypted_and_name_no_company() -> None:
    for path in HISTORIES:
        text = path.read_text(encoding="utf-8")
        assert ENCRYPTED in text, path.name
        assert '"encoding": "anNvbi9wbGFpbg=="' not in text, path.name  # no json/plain payload left


@pytest.mark.parametrize("path", PRE_CODEC, ids=[path.stem for path in PRE_CODEC])
async def test_a_history_from_before_the_payload_codec_still_replays(path: Path) -> None:
    history = _history(path)
    assert ENCRYPTED not in history.to_json()
    result = await lead_replayer(data_converter(Settings())).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


@workflow.defn(name="LeadWorkflow", sandboxed=False)
class _ChangedLeadWorkflow:
    """What a careless change looks like: the run now waits on a timer before anything else."""

    @workflow.run
    async def run(self, start: Any) -> None:
        await workflow.sleep(60)

    @workflow.update
    async def execute(self, command: Any) -> Any:
        return json.loads("{}")


async def test_an_incompatible_workflow_change_fails_the_replay() -> None:
    replayer = Replayer(workflows=[_ChangedLeadWorkflow], data_converter=data_converter(Settings()))
    result = await replayer.replay_workflow(_history(HISTORIES[0]), raise_on_replay_failure=False)
    assert result.replay_failure is not None


async def test_cli_replays_every_run_of_a_live_lead_against_the_current_code(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(temporal_task_queue=worker.task_queue, continue_as_new_after_events=30)
    service = LeadCommandService(temporal_env.client, store, settings)
    lead_id = uuid.uuid4()
    details = LeadDetails(company=Company(name="Fotonica BV"), owner_org="bom", home_region=Region.ZUID)
    signal = CommandInput(command=cmd.SignalLead(lead_id=lead_id, details=details), actor=ACTOR)
    await service.signal(lead_id, signal, "s")
    for number in range(6):
        note = cmd.AddNote(note_id=uuid.uuid4(), text=f"note {number}")
        await service.execute(lead_id, CommandInput(command=note, actor=ACTOR), f"n{number}")
    monkeypatch.setenv("GROEIRUIMTE_TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host)
    monkeypatch.setenv("GROEIRUIMTE_TEMPORAL_NAMESPACE", temporal_env.client.namespace)

    result = await asyncio.to_thread(CliRunner().invoke, audit_app, ["replay-workflow", str(lead_id)])
    runs = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert len(runs) >= 2 and all(line.endswith("replays deterministically") for line in runs)
    unknown = await asyncio.to_thread(CliRunner().invoke, audit_app, ["replay-workflow", str(uuid.uuid4())])
    assert unknown.exit_code == 2
