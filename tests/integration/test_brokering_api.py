"""Brokering over the API: the partner registry, partner requests, the inbox and brokering monitoring."""

from datetime import UTC, datetime
from typing import Any

import httpx

from events.calendar import add_working_days
from services.auth import Role
from tests.integration.conftest import Api

LEAD = {"company": {"name": "Nanolicht B.V."}, "owner_org": "liof", "home_region": "zuid"}
EINDHOVEN = {
    "name": "Gemeente Eindhoven",
    "kind": "municipality",
    "region": "zuid",
    "emails": ["ez@eindhoven.example"],
}


async def _brokering_lead(liof: httpx.AsyncClient) -> tuple[str, str]:
    lead_id = (await liof.post("/v1/leads", json=LEAD)).json()["lead_id"]
    demand = await liof.post(f"/v1/leads/{lead_id}/demands", json={"kind": "space", "floor_area_m2": 3000})
    await liof.post(f"/v1/leads/{lead_id}/articulation/complete")
    return lead_id, demand.json()["demand_id"]


async def _ask(liof: httpx.AsyncClient, lead_id: str, partner_id: str, **extra: Any) -> httpx.Response:
    body = {"partner_id": partner_id, "question": "Is there a site?", **extra}
    return await liof.post(f"/v1/leads/{lead_id}/partner-requests", json=body)


async def test_admin_registers_a_municipality_that_the_taskforce_can_then_ask(api: Api) -> None:
    async with api.as_(Role.ADMIN, "nfia") as admin, api.as_(Role.TASKFORCE, "liof") as liof:
        created = await admin.put("/v1/partners/gemeente-eindhoven", json=EINDHOVEN)
        assert created.status_code == 201 and "webhook_secret" not in created.json()
        assert (await liof.put("/v1/partners/gemeente-eindhoven", json=EINDHOVEN)).status_code == 403
        listed = {p["partner_id"] for p in (await liof.get("/v1/partners")).json()}
        assert {"gemeente-eindhoven", "provincie-limburg", "tennet", "bom"} <= listed
        lead_id, _ = await _brokering_lead(liof)
        unknown = await _ask(liof, lead_id, "gemeente-atlantis")
        assert unknown.status_code == 422 and unknown.json()["invalidParams"][0]["name"] == "partner_id"
        asked = await _ask(liof, lead_id, "gemeente-eindhoven")
    assert asked.status_code == 201
    request = asked.json()["partner_requests"][0]
    expected_due = add_working_days(datetime.now(UTC).date(), 10)
    assert request["due_date"] == expected_due.isoformat()


async def test_past_due_date_is_refused(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "liof") as liof:
        lead_id, _ = await _brokering_lead(liof)
        response = await _ask(liof, lead_id, "tennet", due_date="2020-01-01")
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "due_date"


async def test_partner_sees_the_company_only_after_disclosure_to_it(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "liof") as liof:
        lead_id, demand_id = await _brokering_lead(liof)
        await _ask(liof, lead_id, "enexis", demand_ids=[demand_id])
        await _ask(liof, lead_id, "tennet")
        disclosed = await liof.post(
            f"/v1/leads/{lead_id}/identity-disclosures", json={"to_org": "enexis", "reason": "grid study"}
        )
        assert disclosed.status_code == 200
    await api.project()
    async with api.as_(Role.PARTNER, "enexis") as enexis, api.as_(Role.PARTNER, "tennet") as tennet:
        enexis_inbox = (await enexis.get("/v1/partner-requests")).json()
        tennet_inbox = (await tennet.get("/v1/partner-requests")).json()
    assert enexis_inbox[0]["company_name"] == "Nanolicht B.V." and enexis_inbox[0]["demand_kinds"] == [
        "space"
    ]
    assert tennet_inbox[0]["company_name"] is None
    assert "Nanolicht" not in str(tennet_inbox)


async def test_partner_answering_another_partners_request_is_403(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "liof") as liof:
        lead_id, _ = await _brokering_lead(liof)
        request_id = (await _ask(liof, lead_id, "stedin")).json()["request_id"]
    await api.project()
    async with api.as_(Role.PARTNER, "liander") as liander, api.as_(Role.PARTNER, "stedin") as stedin:
        answer = {"answer": "decline", "reason": "no capacity"}
        assert (
            await liander.post(f"/v1/partner-requests/{request_id}/response", json=answer)
        ).status_code == 403
        assert (
            await stedin.post(f"/v1/partner-requests/{request_id}/response", json=answer)
        ).status_code == 200
        assert (
            await stedin.post(f"/v1/partner-requests/{request_id}/response", json=answer)
        ).status_code == 409


async def test_unresolved_demands_show_as_bottlenecks_and_answers_as_response_times(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "liof") as liof:
        lead_id, demand_id = await _brokering_lead(liof)
        request_id = (await _ask(liof, lead_id, "provincie-limburg")).json()["request_id"]
        unresolved = await liof.put(
            f"/v1/leads/{lead_id}/demands/{demand_id}",
            json={"status": "unresolved", "status_reason": "no site"},
        )
        assert unresolved.status_code == 200
    async with api.as_(Role.PARTNER, "provincie-limburg") as limburg:
        await api.project()
        answered = await limburg.post(f"/v1/partner-requests/{request_id}/response", json={"answer": "offer"})
        assert answered.status_code == 200
    await api.project()
    async with (
        api.as_(Role.COORDINATOR, "nfia") as coordinator,
        api.as_(Role.MINISTRY, "ministerie-ez") as ez,
    ):
        bottlenecks = (await coordinator.get("/v1/monitoring/bottlenecks")).json()
        partners = (await coordinator.get("/v1/monitoring/partners")).json()
        assert (await ez.get("/v1/monitoring/bottlenecks")).status_code == 200
        assert (await ez.get("/v1/monitoring/partners")).status_code == 403
    assert bottlenecks["by_region"]["zuid"]["space"] == 1 and bottlenecks["total"] == 1
    limburg_figures = next(p for p in partners if p["partner_id"] == "provincie-limburg")
    assert limburg_figures["offers"] == 1 and limburg_figures["open"] == 0
    assert limburg_figures["median_response_days"] is not None
