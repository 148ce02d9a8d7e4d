"""LeadWorkflow: one durable workflow per lead, id `lead-<uuid>`.

Updates:  `execute` (CommandInput -> CommandResult), with a validator that runs the lead's rules so a
          refused command never reaches history. Lead creation is update-with-start of `execute`
          with a SignalLead command.
Queries:  `state` -> the lead's current LeadState (or None before it is signalled).
Signals:  none yet.

The workflow completes when the lead is closed, and continues as new before its history grows large,
carrying its state and the answers to recent updates (so a repeated Idempotency-Key still answers).
"""

import asyncio
import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from events.decide import decide
    from events.errors import DomainError, InvalidCommandError, StageConflictError
    from events.evolve import evolve
    from events.model import DomainEvent
    from events.state import LeadState, Stage
    from events.store import EventMetadata, NewEvent, StoredEvent
    from workflows.activities import LeadActivities
    from workflows.payloads import AppendInput, CommandInput, CommandResult, LeadWorkflowInput

EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c2a-8b4e-4c1f-9a7d-2e5b0c9d1a34")
RECENT_RESULTS_KEPT = 50
APPEND_TIMEOUT = timedelta(seconds=30)
# Keep retrying a failed append (database away): an accepted command is never dropped.
APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=["ConcurrencyError"],
)


def event_id_for(workflow_id: str, update_id: str, index: int) -> uuid.UUID:
    """Deterministic event id: a replayed or retried command can never write an event twice."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, f"{workflow_id}/{update_id}/{index}")


def to_application_error(error: DomainError) -> ApplicationError:
    """A domain refusal as a Temporal failure the API can translate back."""
    details: dict[str, str | None] = {"message": str(error)}
    if isinstance(error, StageConflictError):
        details["stage"] = error.stage
    if isinstance(error, InvalidCommandError):
        details["field"], details["code"] = error.field, error.code
    return ApplicationError(str(error), details, type=type(error).__name__, non_retryable=True)


def _current_update_id() -> str:
    info = workflow.current_update_info()
    if info is None:
        raise ApplicationError("not inside an update", non_retryable=True)
    return info.id


@workflow.defn
class LeadWorkflow:
    @workflow.init
    def __init__(self, start: LeadWorkflowInput) -> None:
        self._lead_id = start.lead_id
        self._state: LeadState | None = start.state
        self._results: dict[str, CommandResult] = dict(start.recent_results)
        self._history_limit = start.continue_as_new_after_events
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, start: LeadWorkflowInput) -> LeadState | None:
        await workflow.wait_condition(lambda: self._is_closed() or self._history_is_long())
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._is_closed():
            return self._state
        workflow.continue_as_new(
            LeadWorkflowInput(
                lead_id=self._lead_id,
                state=self._state,
                recent_results=self._results,
                continue_as_new_after_events=self._history_limit,
            )
        )

    @workflow.query
    def state(self) -> LeadState | None:
        return self._state

    @workflow.update
    async def execute(self, command: CommandInput) -> CommandResult:
        update_id = _current_update_id()
        if update_id in self._results:
            return self._results[update_id]
        async with self._lock:
            decided = self._decide(command)
            stored = await self._append(update_id, command, decided)
            for event in stored:
                self._state = evolve(self._state, event.to_domain(), event.occurred_at)
            assert self._state is not None
            result = CommandResult(state=self._state, events=stored)
            self._remember(update_id, result)
            return result

    @execute.validator
    def validate_execute(self, command: CommandInput) -> None:
        if _current_update_id() in self._results:
            return
        self._decide(command)

    def _decide(self, command: CommandInput) -> list[DomainEvent]:
        try:
            return decide(self._state, command.command)
        except DomainError as error:
            raise to_application_error(error) from error

    async def _append(
        self, update_id: str, command: CommandInput, decided: list[DomainEvent]
    ) -> list[StoredEvent]:
        workflow_id = workflow.info().workflow_id
        metadata = EventMetadata(
            actor=command.actor,
            command_id=update_id,
            correlation_id=command.correlation_id or update_id,
            causation_id=update_id,
            reason=command.reason,
        )
        occurred_at = command.occurred_at or workflow.now()
        new_events = [
            NewEvent.from_domain(
                event,
                event_id=event_id_for(workflow_id, update_id, index),
                occurred_at=occurred_at,
                metadata=metadata,
            )
            for index, event in enumerate(decided)
        ]
        append = AppendInput(
            stream_id=workflow_id,
            expected_version=self._state.version if self._state else 0,
            events=new_events,
        )
        try:
            return await workflow.execute_activity_method(
                LeadActivities.append_events,
                append,
                start_to_close_timeout=APPEND_TIMEOUT,
                retry_policy=APPEND_RETRY,
            )
        except ActivityError as error:
            raise ApplicationError(
                "the lead changed concurrently; try again",
                {"message": "the lead changed concurrently", "stage": self._stage()},
                type="ConcurrencyError",
                non_retryable=True,
            ) from error

    def _remember(self, update_id: str, result: CommandResult) -> None:
        self._results[update_id] = result
        while len(self._results) > RECENT_RESULTS_KEPT:
            del self._results[next(iter(self._results))]

    def _stage(self) -> str | None:
        return self._state.stage.value if self._state else None

    def _is_closed(self) -> bool:
        return self._state is not None and self._state.stage is Stage.CLOSED

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self._history_limit
