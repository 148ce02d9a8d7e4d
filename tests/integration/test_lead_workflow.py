"""LeadWorkflow on Temporal's time-skipping test server, writing to a real SQLite event store."""

import uuid

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from events import commands as cmd
from events.demands import SpaceSpec
from events.details import Company, LeadDetails
from events.reference import Region
from events.state import Stage
from events.store import Actor
from services.lead_commands import LeadCommandService
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from workflows.lead import LeadWorkflow
from workflows.payloads import CommandInput, workflow_id_for

ACTOR = Actor(sub="anna@bom.nl", org="bom", role="taskforce")


def _service(client: Client, store: SqlEventStore, worker: Worker, **overrides: object) -> LeadCommandService:
    settings = Settings(temporal_task_queue=worker.task_queue, command_timeout_seconds=20, **overrides)
    return LeadCommandService(client, store, settings)


def _input(command: object) -> CommandInput:
    return CommandInput(command=command, actor=ACTOR, reason="test")


def _signal(lead_id: uuid.UUID) -> CommandInput:
    details = LeadDetails(company=Company(name="Fotonica BV"), owner_org="bom", home_region=Region.ZUID)
    return _input(cmd.SignalLead(lead_id=lead_id, details=details))


async def test_signal_then_demand_records_events_once_per_update_id(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker
) -> None:
    service = _service(temporal_env.client, store, worker)
    lead_id = uuid.uuid4()
    signalled = await service.signal(lead_id, _signal(lead_id), "key-1")
    assert signalled.state.stage is Stage.SIGNALLED
    demand = _input(cmd.ArticulateDemand(demand_id=uuid.uuid4(), spec=SpaceSpec(floor_area_m2=5000)))
    first = await service.execute(lead_id, demand, "key-2")
    again = await service.execute(lead_id, demand, "key-2")
    assert first == again
    assert first.state.stage is Stage.ARTICULATING
    history = await store.load_stream(workflow_id_for(lead_id))
    assert [e.type for e in history] == ["LeadSignalled", "DemandArticulated"]
    assert history[1].metadata.command_id == "key-2"
    assert history[1].metadata.reason == "test"


async def test_refused_command_is_rejected_by_the_validator_and_writes_nothing(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker
) -> None:
    service = _service(temporal_env.client, store, worker)
    lead_id = uuid.uuid4()
    await service.signal(lead_id, _signal(lead_id), "s")
    handle = temporal_env.client.get_workflow_handle(workflow_id_for(lead_id))
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(LeadWorkflow.execute, _input(cmd.CompleteArticulation()))
    history = await handle.fetch_history()
    update_events = [
        e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(update_events) == 1  # only the accepted SignalLead update
    assert len(await store.load_stream(workflow_id_for(lead_id))) == 1


async def test_workflow_continues_as_new_carrying_state_and_recent_answers(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker
) -> None:
    service = _service(temporal_env.client, store, worker, continue_as_new_after_events=20)
    lead_id = uuid.uuid4()
    await service.signal(lead_id, _signal(lead_id), "s")
    handle = temporal_env.client.get_workflow_handle(workflow_id_for(lead_id))
    first_run_id = (await handle.describe()).run_id
    first_note = _input(cmd.AddNote(note_id=uuid.uuid4(), text="first"))
    answered = await service.execute(lead_id, first_note, "note-0")
    for number in range(1, 8):
        await service.execute(
            lead_id, _input(cmd.AddNote(note_id=uuid.uuid4(), text=f"n{number}")), f"note-{number}"
        )
    assert (await handle.describe()).run_id != first_run_id
    repeated = await service.execute(lead_id, first_note, "note-0")
    assert repeated == answered
    state = await handle.query(LeadWorkflow.state)
    assert state is not None and len(state.notes) == 8
    assert len(await store.load_stream(workflow_id_for(lead_id))) == 9


async def test_closed_lead_completes_its_workflow(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker
) -> None:
    service = _service(temporal_env.client, store, worker)
    lead_id = uuid.uuid4()
    await service.signal(lead_id, _signal(lead_id), "s")
    await service.execute(lead_id, _input(cmd.RecordOutcome(code="withdrawn")), "o")
    closed = await service.execute(lead_id, _input(cmd.CloseLead()), "c")
    assert closed.state.stage is Stage.CLOSED
    handle = temporal_env.client.get_workflow_handle(workflow_id_for(lead_id))
    final = await handle.result()
    assert final is not None


async def test_a_repeated_request_answers_the_state_of_its_first_answer_after_the_lead_moved_on(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker
) -> None:
    service = _service(temporal_env.client, store, worker)
    lead_id = uuid.uuid4()
    await service.signal(lead_id, _signal(lead_id), "s")
    note = _input(cmd.AddNote(note_id=uuid.uuid4(), text="first call"))
    first = await service.execute(lead_id, note, "note-1")
    await service.execute(lead_id, _input(cmd.AddNote(note_id=uuid.uuid4(), text="second")), "note-2")

    again = await service.execute(lead_id, note, "note-1")  # the state known now is one event further

    assert (
        again == first and again.state.version == 2 and [n.text for n in again.state.notes] == ["first call"]
    )


async def test_answers_leave_the_leads_state_out_of_temporal_payloads(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker
) -> None:
    # A busy lead: every answer carrying the whole state (and 50 of them kept for repeats) would outgrow
    # Temporal's payload limits; an answer carries only the events its command recorded.
    service = _service(temporal_env.client, store, worker)
    lead_id = uuid.uuid4()
    await service.signal(lead_id, _signal(lead_id), "s")
    for n in range(40):
        text = f"note {n}: " + "x" * 3900
        answer = await service.execute(lead_id, _input(cmd.AddNote(note_id=uuid.uuid4(), text=text)), f"n{n}")
    assert len(answer.state.notes) == 40

    history = await temporal_env.client.get_workflow_handle(workflow_id_for(lead_id)).fetch_history()
    completed = [
        e.workflow_execution_update_completed_event_attributes.outcome.success
        for e in history.events
        if e.HasField("workflow_execution_update_completed_event_attributes")
    ]
    assert len(completed) == 41
    assert max(payloads.ByteSize() for payloads in completed) < 20_000  # one note, not forty


async def test_a_busy_lead_continues_as_new_without_its_free_texts(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker
) -> None:
    service = _service(temporal_env.client, store, worker, continue_as_new_after_events=25)
    lead_id = uuid.uuid4()
    await service.signal(lead_id, _signal(lead_id), "s")
    for n in range(30):
        text = f"note {n}: " + "x" * 3900
        await service.execute(lead_id, _input(cmd.AddNote(note_id=uuid.uuid4(), text=text)), f"n{n}")
    after = await service.execute(lead_id, _input(cmd.AddNote(note_id=uuid.uuid4(), text="last")), "last")

    # The latest run started from what the one before handed on.
    history = await temporal_env.client.get_workflow_handle(workflow_id_for(lead_id)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id  # it did continue as new
    assert started.input.ByteSize() < 30_000  # 25 notes of 4 kB each would be 100 kB
    assert after.state.version == 32 and after.state.notes[0].text.startswith("note 0")  # the log keeps them
