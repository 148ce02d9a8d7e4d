"""Bitemporal reads: `as_of` filters business time (occurred_at), `known_at` filters record time."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from events import commands as cmd
from events.details import LeadDetailsChanges
from events.state import Stage
from events.upcasting import UPCASTERS
from services.auth import Role
from services.lead_reads import load_lead
from services.persistence.event_store import SqlEventStore
from tests.integration.audit_support import AuditApi, LeadWriter, at


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(engine)
    yield store
    await store.close()


async def _corrected_lead(store: SqlEventStore) -> tuple[LeadWriter, datetime]:
    """Signalled 2 March with 100 jobs, a demand on 1 April; then, recorded after the returned moment,
    a correction back-dated to 10 March: 120 jobs."""
    lead = await LeadWriter(store).signal("2026-03-02T09:00:00Z", jobs_at_stake=100)
    demand = cmd.ArticulateDemand(demand_id=uuid.uuid4(), spec={"kind": "talent", "fte_hbo": 12})
    await lead.do(demand, "2026-04-01T10:00:00Z")
    known_before_correction = datetime.now(UTC)
    correction = cmd.AmendLeadDetails(changes=LeadDetailsChanges(jobs_at_stake=120))
    [event] = await lead.do(correction, "2026-03-10T00:00:00Z", reason="typo in the intake form")
    assert event.recorded_at > known_before_correction > event.occurred_at
    return lead, known_before_correction


async def test_back_dated_correction_changes_as_of_answers_but_not_earlier_known_at_ones(
    store: SqlEventStore,
) -> None:
    lead, known_before = await _corrected_lead(store)

    async def jobs(as_of: str | None = None, known_at: datetime | None = None) -> int | None:
        state = await load_lead(store, lead.lead_id, as_of=at(as_of) if as_of else None, known_at=known_at)
        assert state is not None
        return state.details.jobs_at_stake

    assert await jobs(as_of="2026-03-15T00:00:00Z") == 120  # the correction counts from 10 March on
    assert await jobs(as_of="2026-03-05T00:00:00Z") == 100  # before its business date it does not
    assert await jobs(as_of="2026-03-15T00:00:00Z", known_at=known_before) == 100  # not known then
    assert await jobs(known_at=known_before) == 100
    assert await jobs() == 120


async def test_as_of_keeps_steps_that_occurred_by_then_in_the_order_they_were_recorded(
    store: SqlEventStore,
) -> None:
    lead, known_before = await _corrected_lead(store)
    in_march = await load_lead(store, lead.lead_id, as_of=at("2026-03-31T00:00:00Z"))
    in_april = await load_lead(store, lead.lead_id, as_of=at("2026-04-02T00:00:00Z"), known_at=known_before)
    assert in_march is not None and in_april is not None
    assert (in_march.stage, len(in_march.demands), in_march.version) == (Stage.SIGNALLED, 0, 2)
    assert (in_april.stage, len(in_april.demands), in_april.version) == (Stage.ARTICULATING, 1, 2)


async def test_lead_does_not_exist_before_its_signalling_even_with_steps_back_dated_earlier(
    store: SqlEventStore,
) -> None:
    lead = await LeadWriter(store).signal("2026-03-02T09:00:00Z")
    await lead.do(cmd.AddNote(note_id=uuid.uuid4(), text="met them at a fair"), "2026-01-15T00:00:00Z")
    assert await load_lead(store, lead.lead_id, as_of=at("2026-02-01T00:00:00Z")) is None
    later = await load_lead(store, lead.lead_id, as_of=at("2026-03-03T00:00:00Z"))
    assert later is not None and [note.text for note in later.notes] == ["met them at a fair"]


async def test_nothing_is_known_before_the_first_record(store: SqlEventStore) -> None:
    before = datetime.now(UTC)
    lead = await LeadWriter(store).signal("2020-01-01T00:00:00Z")
    assert await load_lead(store, lead.lead_id, known_at=before) is None


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[AuditApi]:
    api = await AuditApi.on(database_url)
    yield api
    await api.container.close()


async def test_state_endpoint_answers_as_of_and_known_at(api: AuditApi) -> None:
    lead, known_before = await _corrected_lead(api.store)
    path = f"/v1/leads/{lead.lead_id}/state"
    async with api.as_(Role.AUDITOR, "adr") as auditor:
        corrected = await auditor.get(path, params={"as_of": "2026-03-15T00:00:00Z"})
        as_known = await auditor.get(
            path, params={"as_of": "2026-03-15T00:00:00Z", "known_at": known_before.isoformat()}
        )
        too_early = await auditor.get(path, params={"as_of": "2026-03-01T00:00:00Z"})
        naive = await auditor.get(path, params={"as_of": "2026-03-15T00:00:00"})
        history = (await auditor.get(f"/v1/leads/{lead.lead_id}/events")).json()
    assert corrected.json()["jobs_at_stake"] == 120
    assert as_known.json()["jobs_at_stake"] == 100
    assert too_early.status_code == 404
    assert naive.status_code == 422
    assert [(e["type"], e["occurred_at"], e["metadata"]["reason"]) for e in history][-1] == (
        "LeadDetailsAmended",
        "2026-03-10T00:00:00Z",
        "typo in the intake form",
    )


async def test_history_shows_events_upcast_with_the_stored_version_beside(
    api: AuditApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead = await LeadWriter(api.store).signal("2026-03-02T09:00:00Z")
    await lead.do(cmd.AddNote(note_id=uuid.uuid4(), text="met at the fair"), "2026-03-03T09:00:00Z")
    # A later schema (version 2) of NoteAdded, and its pure upcaster from the stored version 1.
    monkeypatch.setitem(UPCASTERS, ("NoteAdded", 1), lambda data: {**data, "text": data["text"].upper()})
    async with api.as_(Role.AUDITOR, "adr") as auditor:
        history = (await auditor.get(f"/v1/leads/{lead.lead_id}/events")).json()
    note = history[-1]
    assert (note["data"]["text"], note["schema_version"], note["stored_schema_version"]) == (
        "MET AT THE FAIR",
        2,
        1,
    )
    assert (await api.store.load_stream(lead.stream_id))[-1].data["text"] == "met at the fair"
