"""A lead's current state as the single-lead read takes it from the read model: as stored when this code
would have written it so (the row's `state_schema`), validated when another shape of state wrote it."""

import json
import uuid

import pytest
from sqlalchemy import Text, event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from events import commands as cmd
from events.persons import SealedPersonalData
from services.lead_reads import LeadDocument, current_document, lead_parties, replayed_lead
from services.persistence.event_store import SqlEventStore
from services.persons import PersonalData, PersonVault
from services.projections.rows import state_schema
from services.projections.tables import lead_summaries
from tests.integration.audit_support import LeadWriter
from tests.integration.test_projections import project, store

__all__ = ["store"]  # the fixture, shared with test_projections


async def _lead(store: SqlEventStore) -> LeadWriter:
    lead = await LeadWriter(store).signal("2026-01-05T09:00:00Z")
    sealed = SealedPersonalData(nonce="AAAAAAAAAAAAAAAA", ciphertext="c2VhbGVk")
    for command in (
        cmd.AddCaseTeamMember(org="oost-nl"),
        cmd.DiscloseIdentity(to_org="tennet", reason="grid connection study"),
        cmd.AddContactPerson(person_id=uuid.uuid4(), sealed=sealed),
    ):
        await lead.do(command, "2026-01-06T09:00:00Z")
    return lead


async def test_the_document_of_a_lead_is_that_of_its_state_projected_or_not(
    store: SqlEventStore, engine: AsyncEngine
) -> None:
    lead = await _lead(store)
    state = await replayed_lead(store, lead.lead_id, as_of=None, known_at=None)
    assert state is not None
    unprojected = await current_document(store, lead.lead_id)  # the read model does not hold it yet

    await project(engine)
    projected = await current_document(store, lead.lead_id)

    assert projected == unprojected == LeadDocument.of_state(state)
    assert projected is not None and projected.values == json.loads(state.model_dump_json())
    parties = (projected.owner_org, projected.case_team, projected.disclosed_to)
    assert parties == ("bom", ["oost-nl"], ["tennet"])
    assert await current_document(store, uuid.uuid4()) is None
    async with engine.connect() as connection:
        stored = await connection.scalar(select(lead_summaries.c.state_schema))
    assert stored == state_schema()


@pytest.mark.parametrize("shape", ["this code's", "another", "unknown"])
async def test_a_stored_state_is_taken_as_stored_only_when_this_code_would_have_written_it_so(
    store: SqlEventStore, engine: AsyncEngine, shape: str
) -> None:
    """A document written before a model gained a field lacks it: validated, it gets its default."""
    lead = await _lead(store)
    await project(engine)
    async with engine.begin() as connection:
        document = json.loads(await connection.scalar(select(lead_summaries.c.state.cast(Text))))
        del document["owner_nudges"]  # as if written before the field existed
        schema = {"this code's": state_schema(), "another": "0" * 32, "unknown": None}[shape]
        stored = update(lead_summaries).values(state=json.dumps(document), state_schema=schema)
        await connection.execute(stored)

    read = await current_document(store, lead.lead_id)

    assert read is not None
    assert read.values.get("owner_nudges") == (None if shape == "this code's" else 0)


@pytest.mark.parametrize("read", ["document", "parties"])
async def test_a_lead_is_read_with_its_contact_persons_live_keys_and_shows_them_without_another_query(
    store: SqlEventStore, engine: AsyncEngine, read: str
) -> None:
    """The single-lead read and the reads of a lead's parties take the contact persons' keys in their own
    statement: an erased person's key is not among them, and the keys shown need no second query."""
    vault = PersonVault(engine)
    lead = await LeadWriter(store).signal("2026-01-05T09:00:00Z")
    kept, erased = uuid.uuid4(), uuid.uuid4()
    for person in (kept, erased):
        sealed = await vault.seal(person, lead.lead_id, PersonalData(name=f"Person {person.hex[:4]}"))
        await lead.do(cmd.AddContactPerson(person_id=person, sealed=sealed), "2026-01-06T09:00:00Z")
    await project(engine)
    assert await vault.shred(erased)  # the key is gone; the state does not know yet
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    found = await (current_document if read == "document" else lead_parties)(store, lead.lead_id)
    statements.clear()
    shown = await vault.keys_shown(found, identity=True) if found is not None else None
    queried = list(statements)

    assert found is not None and found.keys == await vault.keys([kept, erased])
    assert shown == {kept: found.keys[kept]} and queried == []
    assert await vault.keys_shown(found, identity=False) == {}
