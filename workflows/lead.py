"""LeadWorkflow: one durable workflow per lead, id `lead-<uuid>`.

Updates:  `execute` (CommandInput -> CommandResult), with a validator that runs the lead's rules so a
          refused command never reaches history. Lead creation is update-with-start of `execute`
          with a SignalLead command.
Queries:  `state` -> the lead's current LeadState (or None before it is signalled).
Signals:  none.
Timers:   the run loop sleeps until the next due action of `events.brokering.due_actions` (partner
          reminders on working days, escalation to the coordinator, stale-lead nudges, aftercare),
          records it as an event and delivers its notification; any update wakes it to re-plan.

The workflow completes when the lead is closed, and continues as new before its history grows large,
carrying its state, pending deliveries and the answers to recent updates (so a repeated
Idempotency-Key still answers).
"""

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from events.brokering import DueAction, due_actions
    from events.commands import RecordDeliveryFailure
    from events.decide import decide
    from events.errors import DomainError, InvalidCommandError, StageConflictError
    from events.evolve import evolve
    from events.model import DomainEvent, PartnerRequestSent
    from events.state import LeadState, Stage
    from events.store import Actor, EventMetadata, NewEvent, StoredEvent
    from workflows.activities import LeadActivities
    from workflows.payloads import (
        AppendInput,
        CommandInput,
        CommandResult,
        DeliveryInput,
        LeadWorkflowInput,
    )

EVENT_ID_NAMESPACE = uuid.UUID("6f1d3c2a-8b4e-4c1f-9a7d-2e5b0c9d1a34")
RECENT_RESULTS_KEPT = 50
WORKFLOW_ACTOR = Actor(sub="groeiruimte-workflow", org="groeiruimte", role="system")
APPEND_TIMEOUT = timedelta(seconds=10)
# Keep retrying a failed append (database away): an accepted command is never dropped.
APPEND_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    non_retryable_error_types=["ConcurrencyError"],
)
DELIVERY_TIMEOUT = timedelta(seconds=30)  # aiosmtplib gives up after 30 s too
# Mail servers and webhook receivers get about twenty minutes; then the failure is recorded on the lead.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=3.0,
    maximum_interval=timedelta(minutes=15),
    maximum_attempts=5,
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


def to_record(
    decided: list[DomainEvent], workflow_id: str, key: str, occurred_at: datetime, metadata: EventMetadata
) -> list[NewEvent]:
    """The decided events as appended: ids derived from the workflow and the command's key, so a retry
    appends nothing new."""
    return [
        NewEvent.from_domain(
            event, event_id=event_id_for(workflow_id, key, index), occurred_at=occurred_at, metadata=metadata
        )
        for index, event in enumerate(decided)
    ]


def carried(state: LeadState | None) -> LeadState | None:
    """The state as the workflow hands it on (to its next run, or as its result): free texts left out.

    The rules and timers never read these (a demand's description they do: a revision keeps it), the
    event log keeps them, and a busy lead's notes, questions and answers would otherwise outgrow
    Temporal's payload limits.
    """
    if state is None:
        return None
    return state.model_copy(
        update={
            "notes": [note.model_copy(update={"text": ""}) for note in state.notes],
            "partner_requests": [
                request.model_copy(update={"question": "", "details": {}, "reason": None})
                for request in state.partner_requests
            ],
            "hold_reason": None,
        }
    )


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
        # Answers are kept without the state (older runs carried it): see CommandResult.
        self._results = {key: r.remembered() for key, r in start.recent_results.items()}
        self._history_limit = start.continue_as_new_after_events
        self._policy = start.policy
        self._outbox: list[DeliveryInput] = list(start.outbox)
        self._lock = asyncio.Lock()
        self._replan = False

    @workflow.run
    async def run(self, start: LeadWorkflowInput) -> LeadState | None:
        while not self._is_closed() and not self._history_is_long():
            await self._sleep_until_due()
            await self._act_on_due_actions()
            await self._deliver_outbox()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._is_closed():
            return carried(self._state)
        workflow.continue_as_new(
            LeadWorkflowInput(
                lead_id=self._lead_id,
                state=carried(self._state),
                recent_results=self._results,
                continue_as_new_after_events=self._history_limit,
                policy=self._policy,
                outbox=self._outbox,
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
            decided = self._decide(command.command)
            stored = await self._record(
                update_id,
                decided,
                actor=command.actor,
                occurred_at=command.occurred_at,
                reason=command.reason,
                correlation_id=command.correlation_id,
            )
            result = CommandResult(events=stored)
            self._remember(update_id, result)
        self._queue_request_notifications(stored)
        self._replan = True
        return result

    @execute.validator
    def validate_execute(self, command: CommandInput) -> None:
        if _current_update_id() in self._results:
            return
        self._decide(command.command)

    def _decide(self, command: Any) -> list[DomainEvent]:
        try:
            return decide(self._state, command)
        except DomainError as error:
            raise to_application_error(error) from error

    def _current(self) -> LeadState:
        assert self._state is not None
        return self._state

    async def _record(
        self,
        key: str,
        decided: list[DomainEvent],
        *,
        actor: Actor = WORKFLOW_ACTOR,
        occurred_at: datetime | None = None,
        reason: str | None = None,
        correlation_id: str | None = None,
    ) -> list[StoredEvent]:
        """Append the events (ids derived from `key`) and apply them to the state."""
        workflow_id = workflow.info().workflow_id
        metadata = EventMetadata(
            actor=actor, command_id=key, correlation_id=correlation_id or key, causation_id=key, reason=reason
        )
        new_events = to_record(decided, workflow_id, key, occurred_at or workflow.now(), metadata)
        stored = await self._append(
            AppendInput(
                stream_id=workflow_id,
                expected_version=self._state.version if self._state else 0,
                events=new_events,
            )
        )
        for event in stored:
            self._state = evolve(self._state, event.to_domain(), event.occurred_at)
        return stored

    async def _append(self, append: AppendInput) -> list[StoredEvent]:
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

    # --- timers: reminders, escalation, nudges, aftercare -------------------------------------

    async def _sleep_until_due(self) -> None:
        self._replan = False
        wake = lambda: self._replan or self._is_closed() or self._history_is_long()  # noqa: E731
        upcoming = due_actions(self._state, self._policy)
        if self._outbox or (upcoming and upcoming[0].at <= workflow.now()):
            return
        timeout = (upcoming[0].at - workflow.now()) if upcoming else None
        with contextlib.suppress(TimeoutError):  # the timer fired: an action is due
            await workflow.wait_condition(wake, timeout=timeout)

    async def _act_on_due_actions(self) -> None:
        for action in due_actions(self._state, self._policy):
            if action.at > workflow.now() or self._is_closed():
                return
            await self._act(action)

    async def _act(self, action: DueAction) -> None:
        key = f"system/{action.purpose}/{action.request_id}/{action.reminder_number}"
        if action.purpose == "nudge":
            key = f"system/nudge/{self._current().owner_nudges + 1}"
        async with self._lock:
            try:
                decided = decide(self._state, action.command(workflow.now(), self._current()))
            except DomainError:
                return  # the state moved on while we slept; the next plan accounts for it
            await self._record(key, decided)
        self._outbox.append(
            DeliveryInput(
                delivery_id=f"{workflow.info().workflow_id}/{key}",
                purpose=action.purpose,
                lead_id=self._lead_id,
                request_id=action.request_id,
                reminder_number=action.reminder_number,
            )
        )

    def _queue_request_notifications(self, stored: list[StoredEvent]) -> None:
        for event in stored:
            domain_event = event.to_domain()
            if isinstance(domain_event, PartnerRequestSent):
                self._outbox.append(
                    DeliveryInput(
                        delivery_id=f"{workflow.info().workflow_id}/request/{domain_event.request_id}",
                        purpose="request",
                        lead_id=self._lead_id,
                        request_id=domain_event.request_id,
                    )
                )

    async def _deliver_outbox(self) -> None:
        while self._outbox:
            delivery = self._outbox[0]
            try:
                await workflow.execute_activity_method(
                    LeadActivities.deliver_notification,
                    delivery,
                    start_to_close_timeout=DELIVERY_TIMEOUT,
                    retry_policy=DELIVERY_RETRY,
                )
            except ActivityError as error:
                await self._record_delivery_failure(delivery, error)
            self._outbox.pop(0)

    async def _record_delivery_failure(self, delivery: DeliveryInput, error: ActivityError) -> None:
        cause = error.cause.message if isinstance(error.cause, ApplicationError) else str(error.cause)
        failure = RecordDeliveryFailure(
            delivery_id=delivery.delivery_id,
            purpose=delivery.purpose,
            request_id=delivery.request_id,
            error=(cause or "delivery failed")[:2000],
        )
        async with self._lock:
            try:
                decided = decide(self._state, failure)
            except DomainError:
                return
            await self._record(f"system/failure/{delivery.delivery_id}", decided)

    # --- bookkeeping ---------------------------------------------------------------------------

    def _remember(self, update_id: str, result: CommandResult) -> None:
        self._results[update_id] = result.remembered()
        while len(self._results) > RECENT_RESULTS_KEPT:
            del self._results[next(iter(self._results))]

    def _stage(self) -> str | None:
        return self._state.stage.value if self._state else None

    def _is_closed(self) -> bool:
        return self._state is not None and self._state.stage is Stage.CLOSED

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self._history_limit
