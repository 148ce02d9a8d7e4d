"""Werkvoorraad search runs in the lead list query: code names for everyone, company names only for those
who may see them, so a hidden company name never shows through a match; paging keeps the search."""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from events import commands as cmd
from events.details import Company
from services.auth import Role, mint_token
from services.projections.projector import Projector
from services.web.pages import worklist
from services.web.session import CSRF_COOKIE, SESSION_COOKIE
from tests.integration.audit_support import AuditApi, LeadWriter


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[AuditApi]:
    api = await AuditApi.on(database_url)
    yield api
    await api.container.close()


async def _lead(api: AuditApi, company: str, owner_org: str) -> LeadWriter:
    return await LeadWriter(api.store).signal(
        "2025-03-01T09:00:00Z", company=Company(name=company), owner_org=owner_org
    )


async def _code_names(api: AuditApi) -> dict[str, str]:
    """Company name -> code name, as the coordinator sees them."""
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        leads = (await coordinator.get("/v1/leads", params={"limit": 100})).json()["results"]
    return {lead["company_name"]: lead["code_name"] for lead in leads}


@pytest.fixture
async def names(api: AuditApi) -> dict[str, str]:
    """bom's own lead, a liof lead whose name bom may not see, and a liof lead disclosed to bom."""
    await _lead(api, "Zonnewind Fotonica B.V.", "bom")
    await _lead(api, "Geheimlicht B.V.", "liof")
    disclosed = await _lead(api, "Kwantum Geheimlicht", "liof")
    await disclosed.do(cmd.DiscloseIdentity(to_org="bom", reason="joint site search"), "2025-03-02T09:00:00Z")
    await Projector(api.store.engine).rebuild()
    return await _code_names(api)


async def _search(api: AuditApi, role: Role, org: str, text: str, **params: Any) -> dict[str, Any]:
    async with api.as_(role, org) as client:
        response = await client.get("/v1/leads", params={"search": text, **params})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_hidden_company_name_matches_nothing_for_who_may_not_see_it(
    api: AuditApi, names: dict[str, str]
) -> None:
    for_bom = await _search(api, Role.TASKFORCE, "bom", "geheimLICHT")
    for_coordinator = await _search(api, Role.COORDINATOR, "nfia", "geheimlicht")
    assert [lead["code_name"] for lead in for_bom["results"]] == [names["Kwantum Geheimlicht"]]
    assert for_bom["count"] == 1
    assert {lead["company_name"] for lead in for_coordinator["results"]} == {
        "Geheimlicht B.V.",
        "Kwantum Geheimlicht",
    }


async def test_a_code_name_matches_for_everyone_who_may_list_leads(
    api: AuditApi, names: dict[str, str]
) -> None:
    hidden_code_name = names["Geheimlicht B.V."]
    part = hidden_code_name.removeprefix("Project ").lower()
    found = await _search(api, Role.TASKFORCE, "bom", part)
    assert hidden_code_name in [lead["code_name"] for lead in found["results"]]
    assert all(
        lead.get("company_name") is None for lead in found["results"] if lead["code_name"] == hidden_code_name
    )


async def test_paging_through_search_results_keeps_the_search(api: AuditApi, names: dict[str, str]) -> None:
    first = await _search(api, Role.COORDINATOR, "nfia", "geheimlicht", limit=1)
    assert first["count"] == 2 and "search=geheimlicht" in first["next"]
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        second = (await coordinator.get(first["next"])).json()
    assert second["next"] is None
    shown = {first["results"][0]["company_name"], second["results"][0]["company_name"]}
    assert shown == {"Geheimlicht B.V.", "Kwantum Geheimlicht"}


def _browser(api: AuditApi, role: Role, org: str) -> httpx.AsyncClient:
    token = mint_token(api.container.settings, role=role, org=org, sub=f"anna@{org}.nl")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={SESSION_COOKIE: token, CSRF_COOKIE: "csrf"},
    )


def _rows(page: str) -> list[str]:
    return re.findall(r'<td><a href="/ui/leads/[^"]+">([^<]+)</a>', page)


async def test_werkvoorraad_search_never_shows_a_lead_by_its_hidden_company_name(
    api: AuditApi, names: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worklist, "PAGE", 1)  # every match on its own page of the werkvoorraad
    async with _browser(api, Role.TASKFORCE, "bom") as bom, _browser(api, Role.COORDINATOR, "nfia") as coord:
        for_bom = (await bom.get("/ui/werkvoorraad", params={"zoek": "Geheimlicht"})).text
        first = (await coord.get("/ui/werkvoorraad", params={"zoek": "Geheimlicht"})).text
        second = (await coord.get("/ui/werkvoorraad", params={"zoek": "Geheimlicht", "pagina": "2"})).text
    assert _rows(for_bom) == [names["Kwantum Geheimlicht"]]
    assert "Geheimlicht B.V." not in for_bom and "1 tot en met 1 van 1 leads" in for_bom
    both = [names["Geheimlicht B.V."], names["Kwantum Geheimlicht"]]
    assert sorted(_rows(first) + _rows(second)) == sorted(both)
    assert "1 tot en met 1 van 2 leads" in first and "2 tot en met 2 van 2 leads" in second
