"""A lead's current state as the single-lead read takes it from the read model: as stored when this code
would have written it so (the row's `state_schema`), validated when another shape of state wrote it."""

import json
import uuid

import pytest
from sqlalchemy import Text, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from events import commands as cmd
from events.persons import SealedPersonalData
from services.lead_reads import LeadDocument, current_document, replayed_lead
from services.persistence.event_store import SqlEventStore
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
