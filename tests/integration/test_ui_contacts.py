"""Contact persons on the lead page: added through a form with the API's messages, erased (GDPR) with a
reason and a confirmation, also on a closed lead; shown only to those who may see the company's identity."""

import re
from typing import Any

import httpx

from services.auth import Role, mint_token
from services.web.session import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE
from tests.integration.conftest import Api

CSRF = "csrf-of-this-browser"
LEAD = {"company": {"name": "Qubitwerk B.V."}, "owner_org": "bom", "home_region": "zuid"}
ANNA = {"name": "Anna de Vries", "email": "anna@qubitwerk.nl", "phone": "+31 40 123 4567", "job_title": "CEO"}
REASON = "verzoek van betrokkene (AVG art. 17)"


def _browser(api: Api, role: Role, org: str) -> httpx.AsyncClient:
    """A signed-in browser: the session and CSRF cookies the sign-in page would have set."""
    token = mint_token(api.settings, role=role, org=org, sub=f"anna@{org}.nl")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={SESSION_COOKIE: token, CSRF_COOKIE: CSRF},
    )


def _field_error(page: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}-fout">([^<]*)<', page)
    return found.group(1) if found else ""


def _contact_rows(page: str) -> list[str]:
    table = re.search(r'<table id="contacten">.*?</table>', page, re.S)
    assert table is not None, "no contact persons section"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)[1:]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def _timeline(page: str) -> str:
    found = re.search(r'<ol class="tijdlijn">(.*?)</ol>', page, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def _erase(
    browser: httpx.AsyncClient, lead_id: str, person_id: str, form: dict[str, Any]
) -> httpx.Response:
    path = f"/ui/leads/{lead_id}/contactpersonen/{person_id}/wissen"
    return await browser.post(path, data={CSRF_FIELD: CSRF, **form})


async def test_taskforce_adds_a_contact_person_and_sees_the_apis_messages(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, _browser(api, Role.TASKFORCE, "bom") as browser:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        empty = (await browser.get(f"/ui/leads/{lead_id}")).text
        add = f"/ui/leads/{lead_id}/stappen/contactpersoon"
        refused = await browser.post(add, data={CSRF_FIELD: CSRF, **ANNA, "email": "anna-at-qubitwerk"})
        added = await browser.post(add, data={CSRF_FIELD: CSRF, **ANNA})
        shown = (await browser.get(added.headers["location"])).text
        contacts = (await bom.get(f"/v1/leads/{lead_id}")).json()["contacts"]
    assert "Contactpersonen" in empty and _contact_rows(empty) == ["Nog geen contactpersonen."]
    for label in ("Naam", "E-mail", "Telefoon", "Functie"):
        assert re.search(rf'<label for="contactpersoon-[a-z_]+">{label}\b', empty), label
    assert refused.status_code == 422
    assert _field_error(refused.text, "contactpersoon-email") == "Heeft niet de juiste vorm"
    assert 'value="Anna de Vries"' in refused.text  # what the user typed stays in the form
    assert added.status_code == 303 and "De contactpersoon is toegevoegd." in shown
    assert _contact_rows(shown)[0].startswith("Anna de Vries CEO anna@qubitwerk.nl +31 40 123 4567")
    assert "Contactpersoon toegevoegd : Anna de Vries, CEO" in _timeline(shown)
    assert [c["name"] for c in contacts] == ["Anna de Vries"]


async def test_erasing_a_contact_needs_a_reason_and_a_confirmation_and_then_shows_gewist(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, _browser(api, Role.TASKFORCE, "bom") as browser:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        person_id = (await bom.post(f"/v1/leads/{lead_id}/contacts", json=ANNA)).json()["person_id"]
        page = (await browser.get(f"/ui/leads/{lead_id}")).text
        refused = await _erase(browser, lead_id, person_id, {"toelichting": " "})
        unconfirmed = await _erase(browser, lead_id, person_id, {"toelichting": REASON})
        erased = await _erase(browser, lead_id, person_id, {"toelichting": REASON, "bevestigd": "on"})
        shown = (await browser.get(erased.headers["location"])).text
        events = (await bom.get(f"/v1/leads/{lead_id}/events")).json()
    form_id = f"persoon-wissen-{person_id}"
    assert "Persoonsgegevens wissen (AVG): Anna de Vries" in page
    assert refused.status_code == 422 and unconfirmed.status_code == 422
    assert _field_error(refused.text, f"{form_id}-toelichting").startswith("Verplicht veld")
    assert _field_error(refused.text, f"{form_id}-bevestigd").startswith("Vink aan")
    assert _field_error(unconfirmed.text, f"{form_id}-toelichting") == ""
    assert REASON in unconfirmed.text  # the reason typed stays in the form
    assert erased.status_code == 303 and "De persoonsgegevens zijn gewist." in shown
    assert _contact_rows(shown)[0].startswith("gewist (AVG) op ")
    assert "Anna" not in shown and "Persoonsgegevens wissen (AVG):" not in shown
    timeline = _timeline(shown)
    assert (
        "Persoonsgegevens van een contactpersoon gewist (AVG)" in timeline
        and f"Toelichting: {REASON}" in timeline
    )
    assert "Contactpersoon toegevoegd : gegevens gewist (AVG)" in timeline
    assert events[-1]["type"] == "PersonalDataErased" and events[-1]["metadata"]["reason"] == REASON


async def test_the_owner_erases_a_contact_of_a_closed_lead_that_takes_no_new_ones(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, _browser(api, Role.TASKFORCE, "bom") as browser:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        person_id = (await bom.post(f"/v1/leads/{lead_id}/contacts", json=ANNA)).json()["person_id"]
        assert (await bom.post(f"/v1/leads/{lead_id}/outcome", json={"code": "withdrawn"})).status_code == 200
        assert (await bom.post(f"/v1/leads/{lead_id}/close", json={})).status_code == 200
        page = (await browser.get(f"/ui/leads/{lead_id}")).text
        erased = await _erase(browser, lead_id, person_id, {"toelichting": REASON, "bevestigd": "on"})
        shown = (await browser.get(erased.headers["location"])).text
    assert "Persoonsgegevens wissen (AVG): Anna de Vries" in page
    assert "Contactpersoon toevoegen" not in page
    assert erased.status_code == 303 and _contact_rows(shown)[0].startswith("gewist (AVG) op ")


async def test_contact_persons_are_shown_only_where_the_api_shows_them(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        assert (await bom.post(f"/v1/leads/{lead_id}/contacts", json=ANNA)).status_code == 201
        assert (await bom.post(f"/v1/leads/{lead_id}/case-team/oost-nl", json={})).status_code == 201
    async with (
        _browser(api, Role.TASKFORCE, "oost-nl") as team,
        _browser(api, Role.AUDITOR, "adr") as auditor,
    ):
        for_team = (await team.get(f"/ui/leads/{lead_id}")).text
        for_auditor = (await auditor.get(f"/ui/leads/{lead_id}")).text
        async with api.as_(Role.TASKFORCE, "bom") as bom:
            body = {"to_org": "oost-nl", "reason": "gezamenlijke locatiekeuze"}
            assert (await bom.post(f"/v1/leads/{lead_id}/identity-disclosures", json=body)).status_code == 200
        disclosed = (await team.get(f"/ui/leads/{lead_id}")).text
    assert "Notitie toevoegen" in for_team  # the case team works on the lead...
    assert "Contactpersonen" not in for_team and "Anna" not in for_team  # ...but not with its contacts
    assert _contact_rows(for_auditor)[0].startswith("Anna de Vries")
    assert "Contactpersoon toevoegen" not in for_auditor and "Persoonsgegevens wissen" not in for_auditor
    assert _contact_rows(disclosed)[0].startswith("Anna de Vries") and "Contactpersoon toevoegen" in disclosed
    assert "Persoonsgegevens wissen" not in disclosed  # erasing is for the owner and the coordinator
