"""The shared shape of every command route: authorise, send the update, shape the answer."""

import uuid
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request

from events.errors import LeadNotFoundError
from events.state import LeadState
from events.store import EventStore
from services.access import require_change
from services.api.deps import CommandsDep, CurrentUser, EventStoreDep
from services.api.schemas import CommandBody, CommandResponse
from services.auth import Principal
from services.lead_reads import load_lead
from services.observability import CORRELATION_ID
from workflows.payloads import CommandInput, CommandResult

AUDIT_REASON_HEADER = "X-Audit-Toelichting"
_NEW_ID_NAMESPACE = uuid.UUID("0b7e3f0e-5a55-4d9f-b1c2-6d8a9e4f2c11")


async def existing_lead(store: EventStore, lead_id: UUID) -> LeadState:
    state = await load_lead(store, lead_id)
    if state is None:
        raise LeadNotFoundError("no lead has been signalled with this id")
    return state


class LeadCommandRunner:
    """One request's command: its update id (from Idempotency-Key), actor, reason and correlation."""

    def __init__(
        self, request: Request, user: CurrentUser, store: EventStoreDep, commands: CommandsDep
    ) -> None:
        self.user = user
        self.store = store
        self.commands = commands
        self._headers = request.headers
        # The HTTP Idempotency-Key becomes the Temporal update id; without one every request is new.
        self.update_id = request.headers.get("Idempotency-Key") or str(uuid.uuid4())

    def new_id(self, scope: object = "") -> UUID:
        """An id for what the command creates; a repeated request gets the same id."""
        return uuid.uuid5(_NEW_ID_NAMESPACE, f"{scope}/{self.user.org}/{self.update_id}")

    def command_input(self, command: Any, body: CommandBody | None) -> CommandInput:
        return CommandInput(
            command=command,
            actor=self.user.as_actor(),
            occurred_at=body.occurred_at if body else None,
            reason=self._headers.get(AUDIT_REASON_HEADER),
            correlation_id=CORRELATION_ID.get(),
        )

    async def run(
        self,
        lead_id: UUID,
        command: Any,
        body: CommandBody | None,
        *,
        authorize: Callable[[Principal, LeadState], None] = require_change,
        **answer_ids: UUID,
    ) -> CommandResponse:
        """Authorise the caller on the lead, run the command through its workflow, shape the answer."""
        authorize(self.user, await existing_lead(self.store, lead_id))
        result = await self.commands.execute(lead_id, self.command_input(command, body), self.update_id)
        return command_response(result, **answer_ids)


def command_response(result: CommandResult, **answer_ids: UUID) -> CommandResponse:
    public = CommandResponse.from_state_and_events(result.state, result.events)
    return public.model_copy(update=answer_ids) if answer_ids else public


RunnerDep = Annotated[LeadCommandRunner, Depends()]
