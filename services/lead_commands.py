"""Sending commands to a lead's workflow and translating Temporal's answers into domain terms."""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from events.errors import (
    ConcurrencyError,
    DomainError,
    InvalidCommandError,
    LeadNotFoundError,
    StageConflictError,
)
from events.lead import fold
from events.state import LeadState
from events.store import EventStore, StoredEvent
from services.lead_reads import load_history, load_lead, state_from
from services.observability import COMMANDS
from services.settings import Settings
from workflows.lead import LeadWorkflow
from workflows.payloads import CommandInput, CommandResult, LeadWorkflowInput, workflow_id_for


class CommandTimeoutError(Exception):
    """No worker answered in time; the command may still complete (retry with the same key)."""


class WorkflowServiceUnavailableError(Exception):
    """Temporal could not be reached."""


@dataclass(frozen=True)
class CommandAnswer:
    """What a command answers: the lead's state after it and the events it recorded."""

    state: LeadState
    events: list[StoredEvent]


class LeadCommandService:
    """Runs commands as Temporal updates of the lead's workflow."""

    def __init__(self, client: Client, store: EventStore, settings: Settings) -> None:
        self._client = client
        self._store = store
        self._settings = settings

    async def signal(self, lead_id: UUID, command: CommandInput, update_id: str) -> CommandAnswer:
        """Create the lead's workflow and signal the lead in one update-with-start."""
        start = WithStartWorkflowOperation(
            LeadWorkflow.run,
            LeadWorkflowInput(
                lead_id=lead_id,
                continue_as_new_after_events=self._settings.continue_as_new_after_events,
                policy=self._settings.brokering_policy(),
            ),
            id=workflow_id_for(lead_id),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            task_queue=self._settings.temporal_task_queue,
        )
        call = self._client.execute_update_with_start_workflow(
            LeadWorkflow.execute, command, start_workflow_operation=start, id=update_id
        )
        return await self._answer(lead_id, await self._counted(lead_id, command, call), None)

    async def execute(
        self, lead_id: UUID, command: CommandInput, update_id: str, known: LeadState | None = None
    ) -> CommandAnswer:
        """Run the command; `known` is the lead's state as the caller loaded it (saves a reload)."""
        handle = self._client.get_workflow_handle_for(LeadWorkflow.run, workflow_id_for(lead_id))
        call = handle.execute_update(LeadWorkflow.execute, command, id=update_id)
        return await self._answer(lead_id, await self._counted(lead_id, command, call), known)

    async def _answer(self, lead_id: UUID, result: CommandResult, known: LeadState | None) -> CommandAnswer:
        """The answer with the state after the recorded events: `known` moved on by them when they
        follow it directly, else the history read up to them (a repeated request's first answer)."""
        if result.state is not None:
            return CommandAnswer(result.state, result.events)
        recorded = result.events
        if recorded and (known.version if known else 0) == recorded[0].stream_version - 1:
            state = fold(((e.to_domain(), e.occurred_at) for e in recorded), known)
        elif recorded or result.versions:
            first, last = result.versions or (recorded[0].stream_version, recorded[-1].stream_version)
            history = [e for e in await load_history(self._store, lead_id) if e.stream_version <= last]
            recorded = [e for e in history if e.stream_version >= first]
            state = state_from(history)
        else:
            state = known or await load_lead(self._store, lead_id)
        if state is None:
            raise LeadNotFoundError("no lead has been signalled with this id")
        return CommandAnswer(state, recorded)

    async def _counted(
        self, lead_id: UUID, command: CommandInput, call: Awaitable[CommandResult]
    ) -> CommandResult:
        name = command.command.command_type
        try:
            result = await self._translated(lead_id, call)
        except Exception as error:
            COMMANDS.labels(name, _OUTCOMES.get(type(error), "rejected")).inc()
            raise
        COMMANDS.labels(name, "accepted").inc()
        return result

    async def _translated(self, lead_id: UUID, call: Awaitable[CommandResult]) -> CommandResult:
        try:
            return await asyncio.wait_for(call, timeout=self._settings.command_timeout_seconds)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
            raise CommandTimeoutError("no worker answered in time; retry with the same key") from error
        except WorkflowUpdateFailedError as error:
            raise _domain_error(error.cause) from error
        except (WorkflowAlreadyStartedError, RPCError) as error:
            raise await self._explain_not_running(lead_id, error) from error

    async def _explain_not_running(self, lead_id: UUID, error: Exception) -> Exception:
        if isinstance(error, RPCError) and error.status not in (
            RPCStatusCode.NOT_FOUND,
            RPCStatusCode.FAILED_PRECONDITION,
            RPCStatusCode.ALREADY_EXISTS,
        ):
            return WorkflowServiceUnavailableError(f"the workflow service failed: {error.message}")
        state = await load_lead(self._store, lead_id)
        if state is None:
            return LeadNotFoundError("no lead has been signalled with this id")
        return StageConflictError(f"the lead is {state.stage.value}", state.stage)


_OUTCOMES = {CommandTimeoutError: "timeout", WorkflowServiceUnavailableError: "unavailable"}


def _domain_error(cause: BaseException | None) -> Exception:
    """The domain error an update's ApplicationError stands for."""
    if not isinstance(cause, ApplicationError):
        return WorkflowServiceUnavailableError(f"the command failed: {cause}")
    details: dict[str, Any] = cause.details[0] if cause.details else {}
    message = details.get("message", cause.message)
    errors: dict[str, DomainError] = {
        "StageConflictError": StageConflictError(message, details.get("stage")),
        "InvalidCommandError": InvalidCommandError(
            message, details.get("field", ""), details.get("code", "invalid")
        ),
        "LeadNotFoundError": LeadNotFoundError(message),
        "ConcurrencyError": ConcurrencyError("lead", -1, -1),
    }
    return errors.get(cause.type or "", WorkflowServiceUnavailableError(message))
