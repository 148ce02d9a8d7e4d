"""Record LeadWorkflow histories for the replay test (tests/integration/test_workflow_replay.py).

    .venv/bin/python -m tests.histories.record

Drives the current LeadWorkflow through every stage on Temporal's time-skipping test server (a real
worker, a throwaway SQLite event store, a recording notifier) and writes each run's history as Temporal
JSON to tests/histories/<scenario>.json (continued runs as <scenario>.run2.json, …), replacing the old
files. Re-record after a workflow change that is *meant* to be incompatible, once no running lead
depends on the old histories (or after guarding the change with `workflow.patched`); keep the old files
while leads recorded with them may still be running.

Histories are recorded through the payload codec (services/payload_codec.py) with the development key,
so they hold no plaintext. tests/histories/pre_codec/ keeps two histories recorded before the codec
existed: they prove that plaintext histories still replay; this script leaves them alone.
"""

import asyncio
import contextlib
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from events import commands as cmd
from events.demands import SpaceSpec, TalentSpec
from events.details import Company, LeadDetails
from events.errors import StageConflictError
from events.reference import CompanyStage, OutcomeCode, Region
from events.store import Actor
from services.audit.replay import lead_histories
from services.binaries import find_binary
from services.lead_commands import LeadCommandService
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.persistence.migrate import upgrade_database
from services.settings import Settings
from services.temporal import data_converter
from tests.fakes import RecordingNotifier
from workflows.payloads import CommandInput, workflow_id_for
from workflows.worker import build_worker

HISTORIES = Path(__file__).parent
ACTOR = Actor(sub="anna@bom.nl", org="bom", role="taskforce")


class Lead:
    """One lead driven through the real workflow by the command service, as the API would."""

    def __init__(self, env: WorkflowEnvironment, service: LeadCommandService) -> None:
        self.env = env
        self.service = service
        self.lead_id = uuid.uuid4()

    async def signal(self) -> None:
        details = LeadDetails(company=Company(name="Fotonica BV"), owner_org="bom", home_region=Region.ZUID)
        command = CommandInput(command=cmd.SignalLead(lead_id=self.lead_id, details=details), actor=ACTOR)
        await self.service.signal(self.lead_id, command, str(uuid.uuid4()))

    async def run(self, command: object, update_id: str | None = None) -> None:
        sent = CommandInput(command=command, actor=ACTOR, reason="recorded for replay")
        await self.service.execute(self.lead_id, sent, update_id or str(uuid.uuid4()))

    async def articulate(self) -> uuid.UUID:
        demand_id = uuid.uuid4()
        await self.run(cmd.ArticulateDemand(demand_id=demand_id, spec=SpaceSpec(floor_area_m2=4000)))
        return demand_id

    async def skip(self, days: float) -> None:
        await self.env.sleep(timedelta(days=days))


async def every_stage_with_reminders(lead: Lead) -> None:
    """signalled → articulating → brokering (request, reminders, escalation, answer) → decided → closed."""
    await lead.signal()
    demand_id = await lead.articulate()
    await lead.run(cmd.ReviseDemand(demand_id=demand_id, status="matched"))
    await lead.run(cmd.CompleteArticulation())
    option_id, request_id = uuid.uuid4(), uuid.uuid4()
    await lead.run(cmd.ProposeLocationOption(option_id=option_id, region=Region.OOST, demand_ids=[demand_id]))
    due = (await lead.env.get_current_time()).date() + timedelta(days=2)
    await lead.run(_request(request_id, demand_id, due))
    await lead.skip(45)  # three reminders, then the escalation
    answer = cmd.RespondToPartnerRequest(request_id=request_id, answer="offer", details={"site": "Nijmegen"})
    await lead.run(answer)
    await lead.run(cmd.ChangeCompanyStage(company_stage=CompanyStage.SCALE_UP))
    await lead.run(cmd.RecordCompanyDecision(option_id=option_id))
    outcome = cmd.RecordOutcome(
        code=OutcomeCode.REALISED_OTHER_REGION, region=Region.OOST, investment_eur=2.5e7, jobs=120
    )
    await lead.run(outcome)
    await lead.skip(200)  # aftercare falls due
    await lead.run(cmd.ConfirmInvestment(amount_eur=2.4e7, jobs=110))
    await lead.run(cmd.CloseLead())


async def on_hold_nudged_and_left_abroad(lead: Lead) -> None:
    """signalled → articulating → on_hold → resumed → on_hold → left_abroad → closed; a stale nudge."""
    await lead.signal()
    await lead.skip(35)  # no activity: the owner is nudged
    await lead.run(cmd.ArticulateDemand(demand_id=uuid.uuid4(), spec=TalentSpec(fte_hbo=30)))
    await lead.run(cmd.PutLeadOnHold(reason="waiting for the board"))
    await lead.run(cmd.ResumeLead())
    await lead.run(cmd.AddNote(note_id=uuid.uuid4(), text="board said no"))
    await lead.run(cmd.PutLeadOnHold(reason="considering Germany"))
    await lead.run(cmd.RecordOutcome(code=OutcomeCode.LEFT_ABROAD, country="DE"))
    await lead.run(cmd.CloseLead(reason="moved to Dresden"))


async def repeated_and_refused_commands(lead: Lead) -> None:
    """A repeated Idempotency-Key (one update in history) and a refused command (none)."""
    await lead.signal()
    demand = cmd.ArticulateDemand(demand_id=uuid.uuid4(), spec=SpaceSpec(floor_area_m2=900))
    await lead.run(demand, update_id="same-key")
    await lead.run(demand, update_id="same-key")
    try:
        await lead.run(cmd.ConfirmInvestment(amount_eur=1))
    except StageConflictError:
        pass  # refused by the validator, so it never reaches the history
    else:
        raise AssertionError("confirming an investment before an outcome must be refused")
    await lead.run(cmd.RecordOutcome(code=OutcomeCode.WITHDRAWN, explanation="company withdrew"))
    await lead.run(cmd.CloseLead())


async def continued_as_new_without_proposition(lead: Lead) -> None:
    """Enough steps to continue as new (a low limit), then no proposition anywhere, closed."""
    await lead.signal()
    await lead.articulate()
    await lead.run(cmd.CompleteArticulation())
    for number in range(8):
        await lead.run(cmd.AddNote(note_id=uuid.uuid4(), text=f"call {number}"))
    outcome = cmd.RecordOutcome(code=OutcomeCode.NO_PROPOSITION, explanation="no site with grid capacity")
    await lead.run(outcome)
    await lead.run(cmd.CloseLead())


def _request(request_id: uuid.UUID, demand_id: uuid.UUID, due: date) -> cmd.SendPartnerRequest:
    return cmd.SendPartnerRequest(
        request_id=request_id,
        partner_id="provincie-gelderland",
        demand_ids=[demand_id],
        question="Room for a fab?",
        due_date=due,
    )


# Each scenario with the settings it runs under.
SCENARIOS: dict[str, tuple[Callable[[Lead], Awaitable[None]], Settings]] = {
    "every_stage_with_reminders": (every_stage_with_reminders, Settings()),
    "on_hold_nudged_and_left_abroad": (on_hold_nudged_and_left_abroad, Settings()),
    "repeated_and_refused_commands": (repeated_and_refused_commands, Settings()),
    "continued_as_new_without_proposition": (
        continued_as_new_without_proposition,
        Settings(continue_as_new_after_events=40),
    ),
}


async def _record_scenario(
    env: WorkflowEnvironment, store: SqlEventStore, queue: str, name: str
) -> dict[str, str]:
    """The scenario's runs as {file name: Temporal JSON history}."""
    scenario, settings = SCENARIOS[name]
    settings = settings.model_copy(update={"temporal_task_queue": queue, "command_timeout_seconds": 60})
    lead = Lead(env, LeadCommandService(env.client, store, settings))
    await scenario(lead)
    histories = await lead_histories(env.client, lead.lead_id)
    await _end(env.client, lead.lead_id)
    return {
        f"{name}.json" if run == 1 else f"{name}.run{run}.json": history.to_json() + "\n"
        for run, history in enumerate(histories, start=1)
    }


async def _end(client: Client, lead_id: uuid.UUID) -> None:
    """A lead left open keeps its timers; end it after its history was taken."""
    with contextlib.suppress(RPCError):  # already closed
        await client.get_workflow_handle(workflow_id_for(lead_id)).terminate("recorded")


async def record() -> list[Path]:
    """Record every scenario, then replace the stored histories with the new ones."""
    recorded = await _record_all()
    for old in HISTORIES.glob("*.json"):
        old.unlink()
    for name, history in recorded.items():
        (HISTORIES / name).write_text(history, encoding="utf-8")
    return [HISTORIES / name for name in recorded]


async def _record_all() -> dict[str, str]:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings()),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    try:
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite+aiosqlite:///{directory}/record.db"
            await upgrade_database(url)
            engine = create_engine(url)
            store, queue = SqlEventStore(engine), f"record-{uuid.uuid4()}"
            try:
                recorded: dict[str, str] = {}
                async with build_worker(env.client, queue, store, RecordingNotifier()):
                    for name in SCENARIOS:
                        recorded |= await _record_scenario(env, store, queue, name)
                return recorded
            finally:
                await engine.dispose()
    finally:
        await env.shutdown()


def main() -> int:
    for path in asyncio.run(record()):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
