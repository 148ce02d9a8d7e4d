"""Replaying a live lead's workflow history against the current LeadWorkflow code.

A change to the workflow that running leads cannot replay (non-determinism) shows here before it is
deployed; CI does the same with the stored histories under tests/histories/.
"""

from collections.abc import AsyncIterator, Sequence
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from workflows.lead import LeadWorkflow
from workflows.payloads import workflow_id_for


class ReplayOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    events: int
    failure: str | None = None


def lead_replayer(data_converter: DataConverter) -> Replayer:
    """A replayer configured like the worker: the current LeadWorkflow and the (decrypting) converter."""
    return Replayer(workflows=[LeadWorkflow], data_converter=data_converter)


async def lead_histories(client: Client, lead_id: UUID) -> list[WorkflowHistory]:
    """Every run of the lead's workflow, oldest first, following continue-as-new back to the first."""
    workflow_id = workflow_id_for(lead_id)
    histories: list[WorkflowHistory] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
        if run_id is None:
            return histories[::-1]


async def replay(histories: Sequence[WorkflowHistory], data_converter: DataConverter) -> list[ReplayOutcome]:
    """Replay each history; a run that the current code cannot replay carries its failure."""

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    results = await lead_replayer(data_converter).replay_workflows(each(), raise_on_replay_failure=False)
    return [
        ReplayOutcome(
            run_id=history.run_id,
            events=len(history.events),
            failure=_failure(results.replay_failures.get(history.run_id)),
        )
        for history in histories
    ]


def _failure(error: Exception | None) -> str | None:
    return None if error is None else f"{type(error).__name__}: {error}"
