"""GDPR erasure that keeps the proof: contact persons' data sealed under a key per person; erasing a
person deletes the key and records `PersonalDataErased`; histories then show `[erased]` and the hash
chain still verifies. Through the real API and workflow (SQLite), and on both databases for a closed lead
(whose workflow has ended, so the erasure is appended directly)."""

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, text
from temporalio.testing import WorkflowEnvironment

from events import commands as cmd
from services.auth import Role
from services.lead_commands import LeadCommandService
from services.persistence.tables import person_keys
from services.persons import ERASED, PersonalData, PersonVault
from tests.integration.audit_support import AuditApi, LeadWriter
from tests.integration.conftest import Api

LEAD = {
    "company": {"name": "Qubitwerk BV"},
    "owner_org": "bom",
    "home_region": "zuid",
    "domains": ["quantum"],
}
ANNA = {"name": "Anna de Vries", "email": "anna@qubitwerk.nl", "phone": "+31 40 123 4567", "job_title": "CEO"}
REASON = {"X-Audit-Toelichting": "verzoek van betrokkene (AVG art. 17)"}


async def _lead_with_contact(api: Api) -> tuple[str, str]:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        added = await bom.post(f"/v1/leads/{lead_id}/contacts", json=ANNA)
    assert added.status_code == 201, added.text
    return lead_id, added.json()["person_id"]


async def _raw_log(api: Api) -> str:
    async with api.store.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT data, metadata FROM events"))).all()
    return json.dumps([[row.data, row.metadata] for row in rows], default=str)


async def _history(
    api: Api, lead_id: str, role: Role = Role.AUDITOR, org: str = "adr"
) -> list[dict[str, Any]]:
    async with api.as_(role, org) as reader:
        response = await reader.get(f"/v1/leads/{lead_id}/events")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def test_contact_data_is_sealed_in_the_log_and_opened_for_those_who_see_the_identity(api: Api) -> None:
    lead_id, person_id = await _lead_with_contact(api)

    raw = await _raw_log(api)
    assert "Anna" not in raw and "qubitwerk.nl" not in raw and "123 4567" not in raw
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        contacts = (await bom.get(f"/v1/leads/{lead_id}")).json()["contacts"]
    assert contacts == [
        {
            **ANNA,
            "person_id": person_id,
            "erased": False,
            "added_at": contacts[0]["added_at"],
            "erased_at": None,
        }
    ]
    added = next(e for e in await _history(api, lead_id) if e["type"] == "ContactPersonAdded")
    assert added["data"]["personal_data"] == {**ANNA, "erased": False}
    assert "sealed" not in added["data"]


async def test_those_who_see_only_the_code_name_see_no_contact_persons(api: Api) -> None:
    lead_id, _ = await _lead_with_contact(api)
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        assert (await bom.post(f"/v1/leads/{lead_id}/case-team/oost-nl")).status_code == 201
    async with api.as_(Role.TASKFORCE, "oost-nl") as team:
        lead = (await team.get(f"/v1/leads/{lead_id}")).json()
        refused = await team.post(f"/v1/leads/{lead_id}/contacts", json=ANNA)
    assert lead["contacts"] is None and lead["company"] is None
    assert refused.status_code == 403
    added = next(
        e
        for e in await _history(api, lead_id, Role.TASKFORCE, "oost-nl")
        if e["type"] == "ContactPersonAdded"
    )
    assert added["data"]["personal_data"] is None


async def test_erasing_a_person_records_it_deletes_the_key_and_keeps_the_chain(api: Api) -> None:
    lead_id, person_id = await _lead_with_contact(api)

    async with api.as_(Role.TASKFORCE, "bom") as bom:
        erased = await bom.delete(f"/v1/persons/{person_id}", headers=REASON)
        again = await bom.delete(f"/v1/persons/{person_id}", headers=REASON)
        lead = (await bom.get(f"/v1/leads/{lead_id}")).json()
    assert erased.status_code == 204, erased.text
    assert again.status_code == 204  # repeating changes nothing

    history = await _history(api, lead_id)
    erasures = [e for e in history if e["type"] == "PersonalDataErased"]
    assert len(erasures) == 1
    assert erasures[0]["data"] == {"person_id": person_id, "reason": REASON["X-Audit-Toelichting"]}
    assert erasures[0]["metadata"]["actor"]["org"] == "bom"
    added = next(e for e in history if e["type"] == "ContactPersonAdded")
    assert added["data"]["personal_data"] == {
        "name": ERASED, "email": ERASED, "phone": ERASED, "job_title": ERASED, "erased": True
    }  # fmt: skip
    assert lead["contacts"][0]["name"] == ERASED and lead["contacts"][0]["erased"] is True
    async with api.store.engine.connect() as connection:
        key = (
            await connection.execute(
                select(person_keys.c.key).where(person_keys.c.person_id == uuid.UUID(person_id))
            )
        ).scalar_one()
    assert key is None
    async with api.as_(Role.AUDITOR, "adr") as auditor:
        verification = (await auditor.get("/v1/audit/verification", params={"lead_id": lead_id})).json()
    assert verification["ok"] is True, verification


async def test_erasure_is_for_the_owner_and_the_coordinator_only(api: Api) -> None:
    _, person_id = await _lead_with_contact(api)
    answers = {}
    for role, org in [
        (Role.AUDITOR, "adr"),
        (Role.PARTNER, "provincie-gelderland"),
        (Role.TASKFORCE, "oost-nl"),
    ]:
        async with api.as_(role, org) as other:
            answers[role.value] = (await other.delete(f"/v1/persons/{person_id}", headers=REASON)).status_code
    async with api.as_(Role.COORDINATOR, "taskforce") as coordinator:
        unknown = await coordinator.delete(f"/v1/persons/{uuid.uuid4()}", headers=REASON)
        answers["coordinator"] = (
            await coordinator.delete(f"/v1/persons/{person_id}", headers=REASON)
        ).status_code
    # other ROMs know the lead by its code name (brief access), so they are refused, not told it is unknown
    assert answers == {"auditor": 403, "partner": 403, "taskforce": 403, "coordinator": 204}
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"


# --- a closed lead, on SQLite and PostgreSQL: no workflow runs, the erasure is appended directly ----


@pytest.fixture
async def audit_api(database_url: str, temporal_env: WorkflowEnvironment) -> AsyncIterator[AuditApi]:
    api = await AuditApi.on(database_url)
    # Connected to Temporal as the API always is; no worker polls, since a closed lead has no workflow.
    api.container.commands = LeadCommandService(temporal_env.client, api.store, api.container.settings)
    yield api
    await api.container.close()


async def test_a_closed_leads_contact_is_erased_and_the_log_still_verifies(audit_api: AuditApi) -> None:
    lead = await LeadWriter(audit_api.store).signal("2026-03-01T09:00:00Z")
    person_id = uuid.uuid4()
    sealed = await PersonVault(audit_api.store.engine).seal(person_id, lead.lead_id, PersonalData(**ANNA))
    await lead.do(cmd.AddContactPerson(person_id=person_id, sealed=sealed), "2026-03-02T09:00:00Z")
    await lead.do(cmd.RecordOutcome(code="withdrawn"), "2026-03-03T09:00:00Z")
    await lead.do(cmd.CloseLead(), "2026-03-04T09:00:00Z")

    async with audit_api.as_(Role.TASKFORCE, "bom") as bom:
        before = (await bom.get(f"/v1/leads/{lead.lead_id}")).json()["contacts"][0]
        erased = await bom.delete(f"/v1/persons/{person_id}", headers=REASON)
        after = (await bom.get(f"/v1/leads/{lead.lead_id}")).json()
    async with audit_api.as_(Role.AUDITOR, "adr") as auditor:
        whole = (await auditor.get("/v1/audit/verification")).json()
        history = (await auditor.get(f"/v1/leads/{lead.lead_id}/events")).json()

    assert before["name"] == "Anna de Vries"
    assert erased.status_code == 204, erased.text
    assert after["stage"] == "closed" and after["contacts"][0]["email"] == ERASED
    assert [e["type"] for e in history][-1] == "PersonalDataErased"
    assert history[-1]["metadata"]["reason"] == REASON["X-Audit-Toelichting"]
    assert whole["ok"] is True and whole["verified"] == len(history)
    assert await PersonVault(audit_api.store.engine).keys([person_id]) == {}


async def test_a_key_left_behind_by_a_crash_after_the_erasure_was_recorded_is_deleted_at_start(
    audit_api: AuditApi,
) -> None:
    lead = await LeadWriter(audit_api.store).signal("2026-03-01T09:00:00Z")
    vault = PersonVault(audit_api.store.engine)
    kept, erased = uuid.uuid4(), uuid.uuid4()
    for person_id in (kept, erased):
        sealed = await vault.seal(person_id, lead.lead_id, PersonalData(**ANNA))
        await lead.do(cmd.AddContactPerson(person_id=person_id, sealed=sealed), "2026-03-02T09:00:00Z")
    # The erasure is recorded, then the process stops before the key is deleted.
    await lead.do(cmd.ErasePerson(person_id=erased, reason="verzoek"), "2026-03-03T09:00:00Z")
    assert set(await vault.keys([kept, erased])) == {kept, erased}

    assert await vault.shred_recorded_erasures() == 1
    assert set(await vault.keys([kept, erased])) == {kept}
    assert await vault.shred_recorded_erasures() == 0
