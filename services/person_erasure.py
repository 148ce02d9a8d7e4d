"""Erasing a contact person (GDPR art. 17): record `PersonalDataErased`, then delete their key.

The event goes through the lead's workflow while the case is open; a closed lead's workflow has
ended, so the event is appended to the log directly (nothing else writes a closed lead). The key is
deleted after the event is recorded; a retry of a request that failed in between finds the event and
only deletes the key. Reads treat a person with a recorded erasure as erased even if the key
were still there.
"""

from datetime import UTC, datetime
from uuid import UUID

from events.decide import decide
from events.state import LeadState, Stage
from events.store import EventMetadata, EventStore
from services.lead_commands import LeadCommandService
from services.persons import PersonVault
from workflows.lead import to_record
from workflows.payloads import CommandInput, workflow_id_for


class PersonEraser:
    """Erases one contact person's data, once, whatever the lead's stage."""

    def __init__(self, store: EventStore, commands: LeadCommandService, persons: PersonVault) -> None:
        self._store = store
        self._commands = commands
        self._persons = persons

    async def erase(self, state: LeadState, person_id: UUID, sent: CommandInput, update_id: str) -> None:
        """Record the erasure (unless recorded already) and delete the key."""
        contact = state.contact(person_id)
        if contact is not None and contact.erased_at is None:
            if state.stage is Stage.CLOSED:
                await self._append_directly(state, sent, update_id)
            else:
                await self._commands.execute(state.lead_id, sent, update_id, state)
        await self._persons.shred(person_id)

    async def _append_directly(self, state: LeadState, sent: CommandInput, update_id: str) -> None:
        stream_id = workflow_id_for(state.lead_id)
        metadata = EventMetadata(
            actor=sent.actor,
            command_id=update_id,
            correlation_id=sent.correlation_id or update_id,
            causation_id=update_id,
            reason=sent.reason,
        )
        occurred_at = sent.occurred_at or datetime.now(UTC)
        new_events = to_record(decide(state, sent.command), stream_id, update_id, occurred_at, metadata)
        await self._store.append(stream_id, state.version, new_events)
