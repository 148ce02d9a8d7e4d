"""Reading a lead's state straight from its events: current, or bitemporally as of a past moment.

Two times, two filters: `known_at` (record time) keeps the events the system had recorded by then;
`as_of` (business time) keeps, of those, the events that had occurred by then. The kept events are
folded in the order they were recorded, so a back-dated correction recorded later changes what
`as_of` answers say from then on, but never what was known at an earlier `known_at`.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic_core import from_json
from sqlalchemy import ColumnElement, Text, Uuid, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.lead import fold
from events.state import ContactPerson, LeadState
from events.store import EventStore, StoredEvent
from events.upcasting import domain_event_from_json, upcast
from services.access import LeadParties
from services.persistence.driver import DriverStatement
from services.persistence.engine import single_statements
from services.persistence.event_store import SqlEventStore
from services.persistence.json_sql import hex_of, json_list, json_row
from services.persistence.tables import events, person_keys
from services.projections.rows import state_schema
from services.projections.tables import lead_snapshots, lead_summaries
from workflows.payloads import workflow_id_for


class HistoryEvent(StoredEvent):
    """An event as a history shows it: data upcast to the current schema, the stored version beside it."""

    stored_schema_version: int


def as_shown(event: StoredEvent) -> HistoryEvent:
    """The event with its data upcast; hashes still cover the stored data (see the case-file export)."""
    data, version = upcast(event.type, event.schema_version, event.data)
    fields = {**dict(event), "data": data, "schema_version": version}
    return HistoryEvent.model_construct(**fields, stored_schema_version=event.schema_version)


class History(list[StoredEvent]):
    """A lead's loaded history that remembers its folds: a route that folds it more than once (to
    authorise the caller, then as of a moment) folds it once. It lives as long as the request's list."""

    def __init__(self, events: Iterable[StoredEvent]) -> None:
        super().__init__(events)
        # By the ids of the folded events: they are this list's own, alive as long as it is.
        self.folds: dict[tuple[int, ...], LeadState | None] = {}


async def load_history(
    store: EventStore, lead_id: UUID, *, known_at: datetime | None = None
) -> list[StoredEvent]:
    return History(await store.load_stream(workflow_id_for(lead_id), known_at=known_at))


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
    kept = in_effect_at(known, as_of)
    folds = history.folds if isinstance(history, History) else {}
    key = tuple(map(id, kept))
    if key not in folds:
        folds[key] = fold((event.to_domain(), event.occurred_at) for event in kept)
    return folds[key]


async def load_lead(
    store: EventStore,
    lead_id: UUID,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> LeadState | None:
    """The lead as it stood at business time `as_of`, counting what was recorded by `known_at`.

    Its current state comes from the read model when the projector has folded its last event.
    """
    if as_of is None and known_at is None and isinstance(store, SqlEventStore):
        projected = await projected_lead(store.engine, lead_id)
        if projected is not None:
            return projected
    return await replayed_lead(store, lead_id, as_of=as_of, known_at=known_at)


async def replayed_lead(
    store: EventStore, lead_id: UUID, *, as_of: datetime | None, known_at: datetime | None
) -> LeadState | None:
    """`state_from(load_history(…), as_of=…, known_at=…)`, the same answer, read and folded cheaply.

    From the SQL store: the projector's latest snapshot that holds for `as_of` and `known_at` (all its
    events had occurred by `as_of` and were recorded by `known_at`, so every one of them is kept), then
    only the events after it — their data as stored JSON text, parsed and validated in one step. Other
    stores take the general way.
    """
    if not isinstance(store, SqlEventStore):
        return state_from(await load_history(store, lead_id, known_at=known_at), as_of=as_of)
    e, snap = events.c, lead_snapshots.c
    snapshot = select(snap.stream_version, snap.state.cast(Text)).where(snap.lead_id == str(lead_id))
    if as_of is not None:
        snapshot = snapshot.where(snap.occurred_until <= as_of)
    if known_at is not None:
        snapshot = snapshot.where(snap.recorded_at <= known_at)
    async with store.engine.connect() as connection:
        start = (await connection.execute(snapshot.order_by(snap.stream_version.desc()).limit(1))).first()
        version, state = (start[0], LeadState.model_validate_json(start[1])) if start else (0, None)
        query = select(e.stream_version, e.type, e.schema_version, e.data.cast(Text), e.occurred_at)
        query = query.where(e.stream_id == workflow_id_for(lead_id), e.stream_version > version)
        if known_at is not None:
            query = query.where(e.recorded_at <= known_at)
        if as_of is not None:
            # Only the steps that had occurred by then: the database leaves out the rest (for a replay
            # as of late in a long case, about half of those after the snapshot).
            query = query.where(e.occurred_at <= as_of)
        rows = (await connection.execute(query.order_by(e.stream_version))).all()
    # As in_effect_at: nothing before the lead's first event (kept whenever a snapshot is), so without a
    # snapshot the lead did not exist yet unless its first event is among those that had occurred.
    if as_of is not None and state is None and (not rows or rows[0].stream_version != 1):
        return None
    history = ((domain_event_from_json(kind, schema, data), at) for _, kind, schema, data, at in rows)
    return fold(history, state)


async def lead_parties(store: EventStore, lead_id: UUID) -> LeadParties | None:
    """The lead's owner, case team, disclosures and contact persons: from the read model's columns when
    it holds the stream's last event (without validating the whole state), otherwise from its state."""
    if isinstance(store, SqlEventStore):
        async with single_statements(store.engine).connect() as connection:
            row = (await connection.execute(_PARTIES, _lead_parameters(lead_id))).first()
        if row is not None:
            contacts = [ContactPerson.model_validate(contact) for contact in row[3]]
            return LeadParties(row[0], row[1], row[2], contacts, keys=_live_keys(row[4]))
    # Not from the read model (it is behind, or there is none): asking it again for the state would not
    # find it either.
    state = await replayed_lead(store, lead_id, as_of=None, known_at=None)
    return None if state is None else LeadParties.of(state)


@dataclass(frozen=True)
class LeadDocument(LeadParties):
    """A lead's current state as JSON values — what `LeadState.model_dump(mode="json")` gives — beside
    the parties that access and identity decisions read, for a read that answers with the state."""

    values: Mapping[str, Any]

    @classmethod
    def of_state(cls, state: LeadState, keys: Mapping[UUID, bytes] | None = None) -> "LeadDocument":
        parties = LeadParties.of(state)
        return cls(parties.owner_org, parties.case_team, parties.disclosed_to, parties.contacts,
                   state.model_dump(mode="json"), keys=keys)  # fmt: skip

    @classmethod
    def of_values(cls, values: Mapping[str, Any], keys: Mapping[UUID, bytes] | None = None) -> "LeadDocument":
        contacts = [ContactPerson.model_validate(contact) for contact in values["contacts"]]
        owner = values["details"]["owner_org"]
        return cls(owner, values["case_team"], values["disclosed_to"], contacts, values, keys=keys)


async def current_document(store: EventStore, lead_id: UUID) -> LeadDocument | None:
    """`load_lead(store, lead_id)` as a document, cheaply: the read model's state, when it holds the
    stream's last event, is taken as stored if this code would have written it so (its `state_schema`),
    and validated otherwise, with its contact persons' keys from the same statement; without such a row
    the lead is replayed (and the keys are left to the vault)."""
    if not isinstance(store, SqlEventStore):
        state = await load_lead(store, lead_id)
    else:
        row = await _DOCUMENT.first(store.engine, _lead_parameters(lead_id))
        if row is not None and row[0] == state_schema():
            return LeadDocument.of_values(from_json(row[1]), _live_keys(row[2]))
        if row is not None:
            return LeadDocument.of_state(LeadState.model_validate_json(row[1]), _live_keys(row[2]))
        state = await replayed_lead(store, lead_id, as_of=None, known_at=None)
    return None if state is None else LeadDocument.of_state(state)


async def projected_lead(engine: AsyncEngine, lead_id: UUID) -> LeadState | None:
    """The read model's state of the lead, when it holds the stream's last event; None otherwise."""
    async with single_statements(engine).connect() as connection:
        state = (await connection.execute(_PROJECTED, _lead_parameters(lead_id))).scalar_one_or_none()
    return None if state is None else LeadState.model_validate_json(state)


def _holds_last_event() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The lead's read-model row, when it has folded the stream's last event (one statement, one snapshot).

    Parameters `lead_id` and `stream_id` (`_lead_parameters`); the statements are built once, so neither
    building nor SQLAlchemy's cache key costs a request anything."""
    stream = events.c.stream_id == bindparam("stream_id")
    last = select(func.max(events.c.stream_version)).where(stream).scalar_subquery()
    return lead_summaries.c.lead_id == bindparam("lead_id"), lead_summaries.c.version == last


def _lead_parameters(lead_id: UUID) -> dict[str, Any]:
    """The lead's id as each table keys it: text in the read models, the stream's id in the log, a UUID in
    the vault (`person_lead`, for `_LIVE_KEYS`)."""
    return {"lead_id": str(lead_id), "stream_id": workflow_id_for(lead_id), "person_lead": lead_id}


def _live_keys(found: str | None) -> dict[UUID, bytes]:
    """The keys `_LIVE_KEYS` found, by person (no rows: NULL on PostgreSQL, `[]` on SQLite)."""
    return {UUID(person): bytes.fromhex(key) for person, key in from_json(found or "[]")}


_s = lead_summaries.c
_k = person_keys.c
# The lead's contact persons' keys, with the lead in one statement (one snapshot: a person erased a moment
# ago has no key here, whatever the state says), as [[person id, key in hex], …]: not a second query per
# read. Read whoever asks; given out only to callers who may see the company's identity (PersonVault).
_LIVE_KEYS = (
    select(json_list(json_row(_k.person_id, hex_of(_k.key))).cast(Text))  # as text on either driver
    .where(_k.lead_id == bindparam("person_lead", type_=Uuid()), _k.key.is_not(None))
    .scalar_subquery()
)
_PARTIES = select(
    _s.owner_org, _s.state["case_team"], _s.state["disclosed_to"], _s.state["contacts"], _LIVE_KEYS
).where(*_holds_last_event())
_PROJECTED = select(_s.state.cast(Text)).where(*_holds_last_event())
# The single-lead read, the API's most frequent: on the driver (services/persistence/driver.py).
_DOCUMENT = DriverStatement(
    select(_s.state_schema, _s.state.cast(Text), _LIVE_KEYS).where(*_holds_last_event())
)
