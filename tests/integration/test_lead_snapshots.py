"""Snapshots of long cases (every SNAPSHOT_EVERY events): a replay as of any moment, as known at any
moment, gives the state the full fold gives — also with steps back-dated before a snapshot's events
or dated after them — and starts from the snapshot when one holds."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Text, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from events import commands as cmd
from events import model as ev
from events.demands import SpaceSpec
from events.persons import SealedPersonalData
from events.store import EventMetadata, NewEvent
from services.access import LeadParties
from services.lead_reads import lead_parties, load_history, replayed_lead, state_from
from services.persistence.event_store import SqlEventStore
from services.projections.projector import Projector
from services.projections.tables import SNAPSHOT_EVERY, lead_snapshots
from tests.integration.audit_support import TASKFORCE, LeadWriter, at

NOTES = 2 * SNAPSHOT_EVERY + 60
START = at("2026-01-05T09:00:00Z")


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(engine)
    yield store
    await store.close()


async def _long_case(store: SqlEventStore) -> tuple[LeadWriter, list[datetime]]:
    """A lead of twice SNAPSHOT_EVERY + 63 events: mostly hourly notes, some back-dated to before the
    signalling, after the first snapshot some dated a year ahead, some appended several at once.
    Returns moments at which parts of it were known."""
    lead = await LeadWriter(store).signal("2026-01-05T09:00:00Z")
    await lead.do(
        cmd.ArticulateDemand(demand_id=uuid.uuid4(), spec=SpaceSpec(floor_area_m2=900)),
        "2026-01-06T09:00:00Z",
    )
    version, known = 2, []
    metadata = EventMetadata(actor=TASKFORCE)
    pending: list[NewEvent] = []
    for index in range(NOTES):
        occurred = START + timedelta(days=1, hours=index)
        if index % 37 == 5:
            occurred = START - timedelta(days=3, minutes=index)  # back-dated before the lead itself
        if index % 53 == 7 and index > SNAPSHOT_EVERY:
            occurred = START + timedelta(days=400, minutes=index)  # dated after all the others
        note = ev.NoteAdded(note_id=uuid.uuid4(), text=f"note {index}")
        pending.append(
            NewEvent.from_domain(note, event_id=uuid.uuid4(), occurred_at=occurred, metadata=metadata)
        )
        if index % 7 != 3:  # now and then three at once
            await store.append(lead.stream_id, version, pending)
            version, pending = version + len(pending), []
        if index in (SNAPSHOT_EVERY // 2, SNAPSHOT_EVERY + 20, NOTES - 30):
            known.append(datetime.now(UTC))
    await store.append(lead.stream_id, version, pending)
    await lead.do(cmd.CompleteArticulation(), "2026-02-20T09:00:00Z")
    return lead, known


async def _project(engine: AsyncEngine, batch_size: int) -> None:
    projector = Projector(engine, batch_size=batch_size)
    while await projector.run_once():
        pass


async def _snapshots(engine: AsyncEngine) -> list[tuple[object, ...]]:
    s = lead_snapshots.c
    query = select(s.lead_id, s.stream_version, s.position, s.occurred_until, s.recorded_at, s.state)
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(query.order_by(s.stream_version))]


async def test_replays_from_snapshots_equal_the_full_fold_at_every_moment(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    lead, known = await _long_case(store)
    await _project(engine, batch_size=37)  # tailing in small batches: snapshots cross batch borders

    snapshots = await _snapshots(engine)
    assert [row[1] for row in snapshots] == [SNAPSHOT_EVERY, 2 * SNAPSHOT_EVERY]
    history = await load_history(store, lead.lead_id)
    # Every ninth moment an event occurred, one before the lead, and each snapshot's occurred_until.
    moments = [*sorted({event.occurred_at for event in history})[::9], START - timedelta(days=10)]
    moments += [row[3] for row in snapshots]  # type: ignore[misc]
    for known_at in [None, *known]:
        full = await load_history(store, lead.lead_id, known_at=known_at)
        for moment in moments:
            for as_of in (moment - timedelta(microseconds=1), moment, moment + timedelta(microseconds=1)):
                replayed = await replayed_lead(store, lead.lead_id, as_of=as_of, known_at=known_at)
                assert replayed == state_from(full, as_of=as_of), (as_of, known_at)
        assert await replayed_lead(store, lead.lead_id, as_of=None, known_at=known_at) == state_from(full)

    await Projector(engine).rebuild()  # the same snapshots as the tailing projector's
    assert await _snapshots(engine) == snapshots


async def test_a_replay_starts_from_the_latest_snapshot_that_holds(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    lead, _ = await _long_case(store)
    await _project(engine, batch_size=500)
    history = await load_history(store, lead.lead_id)
    last = max(event.occurred_at for event in history)
    # Mark the second snapshot (behind the log's back, as only a test may) to see which one is used.
    async with engine.begin() as connection:
        [(document,)] = await connection.execute(
            select(lead_snapshots.c.state.cast(Text)).where(
                lead_snapshots.c.stream_version == 2 * SNAPSHOT_EVERY
            )
        )
        marked = document.replace('"code_name":"', '"code_name":"Gemerkt ', 1)
        await connection.execute(
            update(lead_snapshots)
            .where(lead_snapshots.c.stream_version == 2 * SNAPSHOT_EVERY)
            .values(state=marked)
        )

    now = await replayed_lead(store, lead.lead_id, as_of=last, known_at=None)
    before_the_late_notes = await replayed_lead(
        store, lead.lead_id, as_of=START + timedelta(days=30), known_at=None
    )

    assert now is not None and now.code_name.startswith("Gemerkt ")  # from the snapshot at 500
    # Notes dated a year ahead are among its events, so as of a month in it does not hold: folded again.
    assert before_the_late_notes is not None and not before_the_late_notes.code_name.startswith("Gemerkt")


async def test_the_parties_read_from_the_read_model_are_those_of_the_state(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    lead = await LeadWriter(store).signal("2026-01-05T09:00:00Z")
    sealed = SealedPersonalData(nonce="AAAAAAAAAAAAAAAA", ciphertext="c2VhbGVk")
    first, second = uuid.uuid4(), uuid.uuid4()
    for command in (
        cmd.AddCaseTeamMember(org="oost-nl"),
        cmd.DiscloseIdentity(to_org="tennet", reason="grid connection study"),
        cmd.AddContactPerson(person_id=first, sealed=sealed),
        cmd.AddContactPerson(person_id=second, sealed=sealed),
        cmd.ErasePerson(person_id=first, reason="asked to be forgotten"),
    ):
        await lead.do(command, "2026-01-06T09:00:00Z")
    state = await replayed_lead(store, lead.lead_id, as_of=None, known_at=None)
    assert state is not None
    unprojected = await lead_parties(store, lead.lead_id)  # the read model does not hold it yet

    await _project(engine, batch_size=500)
    projected = await lead_parties(store, lead.lead_id)

    assert projected == unprojected == LeadParties.of(state)
    assert projected is not None and projected.case_team == ["oost-nl"]
    assert projected.disclosed_to == ["tennet"]
    erased = [(c.person_id, c.erased_at is not None) for c in projected.contacts]
    assert erased == [(first, True), (second, False)]
