"""The shared shape of every command route: authorise, send the update, shape the answer."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request

from events.state import LeadState
from events.store import EventStore
from services.access import Lead, LeadAccess, require_lead, require_lead_reading_role, sees_identity
from services.api.deps import CommandsDep, CurrentUser, EventStoreDep, PersonVaultDep
from services.api.schemas import CommandBody, CommandResponse
from services.audit.access_log import ProcessingActivity
from services.audit.read_logging import LoggedRead
from services.auth import Principal
from services.lead_commands import CommandAnswer, LeadCommandService
from services.lead_reads import load_lead
from services.observability import CORRELATION_ID
from services.persons import PersonVault
from workflows.payloads import CommandInput

AUDIT_REASON_HEADER = "X-Audit-Toelichting"
_NEW_ID_NAMESPACE = uuid.UUID("0b7e3f0e-5a55-4d9f-b1c2-6d8a9e4f2c11")


async def readable_lead(
    read: LoggedRead, lead_id: UUID, needed: LeadAccess, activity: ProcessingActivity | None = None
) -> LeadState:
    """The lead, when the caller has `needed` access: the read is logged first; 404 when it may not know."""
    return await readable(read, lead_id, needed, load_lead, activity)


async def readable(
    read: LoggedRead,
    lead_id: UUID,
    needed: LeadAccess,
    load: Callable[[EventStore, UUID], Awaitable[Lead | None]],
    activity: ProcessingActivity | None = None,
) -> Lead:
    """`readable_lead`, with the lead loaded by `load` (its state, its stored document or its parties)."""
    require_lead_reading_role(read.user)
    read.reads.record(lead_id, activity=activity)  # before loading: the entry's write runs meanwhile
    return require_lead(read.user, await load(read.store, lead_id), needed)


class LeadCommandRunner:
    """One request's command: its update id (from Idempotency-Key), actor, reason and correlation."""

    def __init__(
        self,
        request: Request,
        user: Principal,
        store: EventStore,
        commands: LeadCommandService,
        persons: PersonVault,
    ) -> None:
        self.user = user
        self.store = store
        self.commands = commands
        self.persons = persons
        self._headers = request.headers
        # The HTTP Idempotency-Key becomes the Temporal update id; without one every request is new.
        self.update_id = request.headers.get("Idempotency-Key") or str(uuid.uuid4())

    @property
    def reason(self) -> str | None:
        """The caller's reason for the step (`X-Audit-Toelichting`)."""
        return self._headers.get(AUDIT_REASON_HEADER)

    def new_id(self, scope: object = "") -> UUID:
        """An id for what the command creates; a repeated request gets the same id."""
        return uuid.uuid5(_NEW_ID_NAMESPACE, f"{scope}/{self.user.org}/{self.update_id}")

    def command_input(self, command: Any, body: CommandBody | None) -> CommandInput:
        return CommandInput(
            command=command,
            actor=self.user.as_actor(),
            occurred_at=body.occurred_at if body else None,
            reason=self.reason,
            correlation_id=CORRELATION_ID.get(),
        )

    async def run(
        self,
        lead_id: UUID,
        command: Any,
        body: CommandBody | None,
        *,
        needed: LeadAccess = LeadAccess.WRITE,
        **answer_ids: UUID,
    ) -> CommandResponse:
        """Authorise the caller on the lead, run the command through its workflow, shape the answer."""
        known = require_lead(self.user, await load_lead(self.store, lead_id), needed)
        result = await self.execute(lead_id, command, body, known)
        return await command_response(result, self.user, self.persons, **answer_ids)

    async def execute(
        self, lead_id: UUID, command: Any, body: CommandBody | None, known: LeadState | None = None
    ) -> CommandAnswer:
        """Run the command (the caller was authorised already on `known`, the state it loaded)."""
        sent = self.command_input(command, body)
        return await self.commands.execute(lead_id, sent, self.update_id, known)


async def command_response(
    result: CommandAnswer, user: Principal, persons: PersonVault, **answer_ids: UUID
) -> CommandResponse:
    """The new state and events, the company's identity (and its contact persons) only for those who
    may see it."""
    identity = sees_identity(user, result.state)
    keys = await persons.keys_shown(result.state, identity=identity)
    public = CommandResponse.from_state_and_events(
        result.state, result.events, show_identity=identity, keys=keys
    )
    return public.model_copy(update=answer_ids) if answer_ids else public


async def lead_command_runner(
    request: Request,
    user: CurrentUser,
    store: EventStoreDep,
    commands: CommandsDep,
    persons: PersonVaultDep,
) -> LeadCommandRunner:
    """The request's runner (an async dependency: a class as dependency would run in the thread pool)."""
    return LeadCommandRunner(request, user, store, commands, persons)


RunnerDep = Annotated[LeadCommandRunner, Depends(lead_command_runner)]
