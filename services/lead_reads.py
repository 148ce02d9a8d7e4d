"""Reading a lead's state straight from its events: current, or bitemporally as of a past moment.

Two times, two filters: `known_at` (record time) keeps the events the system had recorded by then;
`as_of` (business time) keeps, of those, the events that had occurred by then. The kept events are
folded in the order they were recorded, so a back-dated correction recorded later changes what
`as_of` answers say from then on, but never what was known at an earlier `known_at`.
"""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from events.lead import fold
from events.state import LeadState
from events.store import EventStore, StoredEvent
from events.upcasting import upcast
from workflows.payloads import workflow_id_for


class HistoryEvent(StoredEvent):
    """An event as a history shows it: data upcast to the current schema, the stored version beside it."""

    stored_schema_version: int


def as_shown(event: StoredEvent) -> HistoryEvent:
    """The event with its data upcast; hashes still cover the stored data (see the case-file export)."""
    data, version = upcast(event.type, event.schema_version, event.data)
    fields = {**dict(event), "data": data, "schema_version": version}
    return HistoryEvent.model_construct(**fields, stored_schema_version=event.schema_version)


async def load_history(
    store: EventStore, lead_id: UUID, *, known_at: datetime | None = None
) -> list[StoredEvent]:
    return await store.load_stream(workflow_id_for(lead_id), known_at=known_at)


def in_effect_at(history: Sequence[StoredEvent], as_of: datetime | None) -> list[StoredEvent]:
    """The events that had occurred by `as_of`; none when the lead itself was signalled later.

    (A step back-dated to before the lead's signalling must not make a history without its start.)
    """
    if as_of is None:
        return list(history)
    if not history or history[0].occurred_at > as_of:
        return []
    return [event for event in history if event.occurred_at <= as_of]


def state_from(
    history: Sequence[StoredEvent], *, as_of: datetime | None = None, known_at: datetime | None = None
) -> LeadState | None:
    """The lead as it stood at `as_of`, counting only what was recorded by `known_at`; None before."""
    known = [event for event in history if known_at is None or event.recorded_at <= known_at]
    return fold((event.to_domain(), event.occurred_at) for event in in_effect_at(known, as_of))


async def load_lead(
    store: EventStore,
    lead_id: UUID,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> LeadState | None:
    """The lead as it stood at business time `as_of`, counting what was recorded by `known_at`."""
    return state_from(await load_history(store, lead_id, known_at=known_at), as_of=as_of)
