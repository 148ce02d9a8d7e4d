"""The lead page's forms for amending details, revising a demand, withdrawing a partner request and
recording a partner's answer given offline: each goes through the API and shows its messages."""

import re
from typing import Any

import httpx

from services.auth import Role, mint_token
from services.web.session import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE
from tests.integration.conftest import Api

CSRF = "csrf-of-this-browser"
LEAD = {
    "company": {"name": "Lichtwerk Fotonica B.V.", "kvk_number": "12345678"},
    "owner_org": "bom",
    "home_region": "zuid",
    "municipality": "Eindhoven",
    "domains": ["photonics"],
    "investment_at_stake_eur": 40_000_000,
}


def _browser(api: Api, role: Role, org: str) -> httpx.AsyncClient:
    """A signed-in browser: the session and CSRF cookies the sign-in page would have set."""
    token = mint_token(api.settings, role=role, org=org, sub=f"anna@{org}.nl")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={SESSION_COOKIE: token, CSRF_COOKIE: CSRF},
    )


async def _step(browser: httpx.AsyncClient, lead_id: str, step: str, form: dict[str, Any]) -> httpx.Response:
    return await browser.post(f"/ui/leads/{lead_id}/stappen/{step}", data={CSRF_FIELD: CSRF, **form})


def _field_error(page: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-fout">([^<]*)<', page)
    return found.group(1) if found else ""


async def _brokering_lead(bom: httpx.AsyncClient) -> tuple[str, str]:
    lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
    demand = await bom.post(f"/v1/leads/{lead_id}/demands", json={"kind": "space", "floor_area_m2": 6000})
    assert (await bom.post(f"/v1/leads/{lead_id}/articulation/complete")).status_code == 200
    return lead_id, demand.json()["demand_id"]


async def test_amending_details_shows_the_apis_message_and_records_only_what_changed(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, _browser(api, Role.TASKFORCE, "bom") as browser:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        page = (await browser.get(f"/ui/leads/{lead_id}")).text
        assert 'name="company.name" value="Lichtwerk Fotonica B.V."' in page
        assert 'name="municipality" value="Eindhoven"' in page
        prefilled = {**_as_prefilled(), "municipality": "Helmond"}
        refused = await _step(browser, lead_id, "gegevens", {**prefilled, "company.kvk_number": "123"})
        assert refused.status_code == 422
        assert _field_error(refused.text, "gegevens-company-kvk_number") == "Heeft niet de juiste vorm"
        assert 'value="Helmond"' in refused.text  # what the user typed stays in the form
        amended = await _step(browser, lead_id, "gegevens", prefilled)
        assert amended.status_code == 303
        shown = (await browser.get(amended.headers["location"])).text
        events = (await bom.get(f"/v1/leads/{lead_id}/events")).json()
    assert "De gegevens zijn gewijzigd." in shown
    assert events[-1]["type"] == "LeadDetailsAmended"
    changes = {key: value for key, value in events[-1]["data"]["changes"].items() if value is not None}
    assert changes == {"municipality": "Helmond"}


def _as_prefilled() -> dict[str, Any]:
    """The amendment form as sent unchanged: every field holds the lead's current value."""
    return {
        "company.name": "Lichtwerk Fotonica B.V.",
        "company.kvk_number": "12345678",
        "municipality": "Eindhoven",
        "domains": ["photonics"],
        "investment_at_stake_eur": "40000000.0",
        "confidentiality": "vertrouwelijk",
    }


async def test_revising_a_demand_shows_invalid_fields_and_changes_its_specification(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, _browser(api, Role.TASKFORCE, "bom") as browser:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        demand = await bom.post(f"/v1/leads/{lead_id}/demands", json={"kind": "space", "floor_area_m2": 6000})
        demand_id = demand.json()["demand_id"]
        page = (await browser.get(f"/ui/leads/{lead_id}")).text
        assert 'name="spec.floor_area_m2" value="6000.0"' in page
        form = {"demand_id": demand_id, "spec.floor_area_m2": "8000", "spec.heavy_logistics": "on"}
        refused = await _step(
            browser, lead_id, "vraag-herzien-space", {**form, "spec.cleanroom_iso_class": "12"}
        )
        assert refused.status_code == 422
        field_id = f"vraag-herzien-space-{demand_id}-spec-cleanroom_iso_class"
        assert _field_error(refused.text, field_id) == "Mag hoogstens 9 zijn"
        revised = await _step(
            browser, lead_id, "vraag-herzien-space", {**form, "spec.cleanroom_iso_class": "5"}
        )
        lead = (await bom.get(f"/v1/leads/{lead_id}")).json()
    assert revised.status_code == 303
    spec = lead["demands"][0]["spec"]
    assert (spec["floor_area_m2"], spec["cleanroom_iso_class"], spec["heavy_logistics"]) == (8000, 5, True)


async def test_taskforce_records_a_partners_answer_given_offline(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, _browser(api, Role.TASKFORCE, "bom") as browser:
        lead_id, demand_id = await _brokering_lead(bom)
        body = {"partner_id": "provincie-gelderland", "demand_ids": [demand_id], "question": "Kavel?"}
        asked = await bom.post(f"/v1/leads/{lead_id}/partner-requests", json=body)
        request_id = asked.json()["request_id"]
        await api.project()
        page = (await browser.get(f"/ui/leads/{lead_id}")).text
        assert "Antwoord van een partner vastleggen" in page and f'value="{request_id}"' in page
        decline = {"request_id": request_id, "answer": "decline"}
        refused = await _step(browser, lead_id, "partnerantwoord", decline)
        assert refused.status_code == 422
        assert _field_error(refused.text, "partnerantwoord-reason") == "a decline needs a reason"
        offer = {"request_id": request_id, "answer": "offer", "details.toelichting": "Kavel van 2 ha"}
        recorded = await _step(browser, lead_id, "partnerantwoord", offer)
        lead = (await bom.get(f"/v1/leads/{lead_id}")).json()
        events = (await bom.get(f"/v1/leads/{lead_id}/events")).json()
    assert recorded.status_code == 303
    answered = lead["partner_requests"][0]
    assert (answered["status"], answered["answer"]) == ("answered", "offer")
    assert answered["details"] == {"toelichting": "Kavel van 2 ha"}
    assert events[-1]["metadata"]["actor"]["org"] == "bom"


async def test_taskforce_withdraws_an_open_partner_request(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, _browser(api, Role.TASKFORCE, "bom") as browser:
        lead_id, _ = await _brokering_lead(bom)
        body = {"partner_id": "tennet", "question": "Netcapaciteit?"}
        request_id = (await bom.post(f"/v1/leads/{lead_id}/partner-requests", json=body)).json()["request_id"]
        withdrawn = await _step(
            browser, lead_id, "verzoek-intrekken", {"request_id": request_id, "reason": "bedrijf kiest Zuid"}
        )
        shown = (await browser.get(withdrawn.headers["location"])).text
        lead = (await bom.get(f"/v1/leads/{lead_id}")).json()
    assert withdrawn.status_code == 303 and "Het verzoek is ingetrokken." in shown
    assert lead["partner_requests"][0]["status"] == "withdrawn"
    assert "Verzoek aan een partner intrekken" not in shown  # no open request left to withdraw


async def test_forms_for_partner_requests_are_not_offered_without_an_open_request(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, _browser(api, Role.TASKFORCE, "bom") as browser:
        lead_id, _ = await _brokering_lead(bom)
        page = (await browser.get(f"/ui/leads/{lead_id}")).text
    assert "Gegevens wijzigen" in page and "Ruimtevraag herzien" in page
    assert "Verzoek aan een partner intrekken" not in page
    assert "Antwoord van een partner vastleggen" not in page
