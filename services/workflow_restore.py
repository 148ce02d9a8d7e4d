"""Restarting lead workflows from the event log, for when Temporal lost them (a cluster rebuilt
without its database, a namespace re-created, a workflow terminated by hand).

The event log is the record; a lead's workflow only carries its timers and in-flight work. For every
lead that is not closed and whose workflow is not running, a new run starts from the lead's state as
folded from the log; it plans its reminders, escalations and nudges from that state again. Answers
kept for repeated requests and deliveries that were not yet sent when the workflow was lost are gone
(their events were recorded; the sent ones are in `notification_deliveries`).
"""

from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from events.state import LeadState, Stage
from services.lead_reads import load_lead
from services.persistence.event_store import SqlEventStore
from services.persistence.tables import events
from services.settings import Settings
from workflows.lead import LeadWorkflow, carried
from workflows.payloads import LeadWorkflowInput, workflow_id_for

STREAM_PREFIX = "lead-"


@dataclass
class RestoreReport:
    """What a restore found and did, by lead id."""

    running: list[UUID] = field(default_factory=list)
    closed: list[UUID] = field(default_factory=list)
    restarted: list[UUID] = field(default_factory=list)


class WorkflowRestorer:
    """Starts the workflow of every open lead whose workflow is not running."""

    def __init__(self, client: Client, store: SqlEventStore, settings: Settings) -> None:
        self._client, self._store, self._settings = client, store, settings

    async def restore(self, *, dry_run: bool = False) -> RestoreReport:
        report = RestoreReport()
        for lead_id in await self._lead_ids():
            state = await load_lead(self._store, lead_id)
            if state is None or state.stage is Stage.CLOSED:
                report.closed.append(lead_id)
            elif await self._is_running(lead_id):
                report.running.append(lead_id)
            else:
                if not dry_run:
                    await self._start(lead_id, state)
                report.restarted.append(lead_id)
        return report

    async def _lead_ids(self) -> list[UUID]:
        query = select(events.c.stream_id).distinct().order_by(events.c.stream_id)
        async with self._store.engine.connect() as connection:
            streams = (await connection.execute(query)).scalars().all()
        return [
            UUID(stream.removeprefix(STREAM_PREFIX)) for stream in streams if stream.startswith(STREAM_PREFIX)
        ]

    async def _is_running(self, lead_id: UUID) -> bool:
        try:
            described = await self._client.get_workflow_handle(workflow_id_for(lead_id)).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        return described.status is WorkflowExecutionStatus.RUNNING

    async def _start(self, lead_id: UUID, state: LeadState) -> None:
        await self._client.start_workflow(
            LeadWorkflow.run,
            LeadWorkflowInput(
                lead_id=lead_id,
                state=carried(state),
                continue_as_new_after_events=self._settings.continue_as_new_after_events,
                policy=self._settings.brokering_policy(),
            ),
            id=workflow_id_for(lead_id),
            task_queue=self._settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
