"""Reading a lead's state straight from its events (always current; also as of a past moment)."""

from datetime import datetime
from uuid import UUID

from events.lead import fold
from events.state import LeadState
from events.store import EventStore, StoredEvent
from workflows.payloads import workflow_id_for


async def load_history(
    store: EventStore, lead_id: UUID, *, known_at: datetime | None = None
) -> list[StoredEvent]:
    return await store.load_stream(workflow_id_for(lead_id), known_at=known_at)


async def load_lead(
    store: EventStore,
    lead_id: UUID,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> LeadState | None:
    """The lead as it stood at business time `as_of`, counting what was recorded by `known_at`."""
    history = await load_history(store, lead_id, known_at=known_at)
    if as_of is not None:
        history = [event for event in history if event.occurred_at <= as_of]
    return fold((event.to_domain(), event.occurred_at) for event in history)
