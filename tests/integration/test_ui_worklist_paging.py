"""Werkvoorraad one page at a time, and "only overdue requests" as a filter of the lead list's query:
a lead is overdue when it has an open partner request past its due date, and only leads the caller sees
in full can match (a brief view never tells whether a lead has requests)."""

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
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

TODAY = datetime.now(UTC).date()
PAST, FUTURE = TODAY - timedelta(days=3), TODAY + timedelta(days=10)


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[AuditApi]:
    api = await AuditApi.on(database_url)
    yield api
    await api.container.close()


async def _lead(
    api: AuditApi, company: str, day: int, owner_org: str = "bom", brokering: bool = True
) -> LeadWriter:
    lead = await LeadWriter(api.store).signal(
        f"2025-03-{day:02d}T09:00:00Z", company=Company(name=company), owner_org=owner_org
    )
    if brokering:
        await lead.start_case(f"2025-03-{day:02d}T10:00:00Z")
    return lead


async def _ask(lead: LeadWriter, due: Any, then: Any = None) -> None:
    """A partner request due on `due`; `then(request_id)` is the command that follows it, if any."""
    request_id = uuid.uuid4()
    sent = cmd.SendPartnerRequest(
        request_id=request_id, partner_id="provincie-gelderland", question="Kavel van 2 ha?", due_date=due
    )
    await lead.do(sent, "2025-03-20T09:00:00Z")
    if then is not None:
        await lead.do(then(request_id), "2025-03-21T09:00:00Z")


@pytest.fixture
async def leads(api: AuditApi) -> dict[str, str]:
    """Company name -> lead id: two overdue bom leads, four bom leads not overdue, an overdue liof lead."""
    late = await _lead(api, "Laat Fotonica", 1)
    await _ask(late, PAST)
    later = await _lead(api, "Later Kwantum", 2)
    await _ask(later, FUTURE)
    await _ask(later, PAST)
    answered = await _lead(api, "Beantwoord Chips", 3)
    await _ask(
        answered, PAST, lambda request_id: cmd.RespondToPartnerRequest(request_id=request_id, answer="offer")
    )
    withdrawn = await _lead(api, "Ingetrokken Sensoren", 4)
    await _ask(withdrawn, PAST, lambda request_id: cmd.WithdrawPartnerRequest(request_id=request_id))
    elsewhere = await _lead(api, "Limburg Laat", 5, owner_org="liof")
    await _lead(api, "Zonder Verzoek", 6, brokering=False)
    on_time = await _lead(api, "Optijd Robotica", 7)
    await _ask(on_time, FUTURE)
    await _ask(elsewhere, PAST)
    await Projector(api.store.engine).rebuild()
    written = (late, later, answered, withdrawn, on_time, elsewhere)
    names = ("Laat Fotonica", "Later Kwantum", "Beantwoord Chips", "Ingetrokken Sensoren", "Optijd Robotica")
    return dict(zip((*names, "Limburg Laat"), (str(lead.lead_id) for lead in written), strict=True))


async def _list(api: AuditApi, role: Role, org: str, **params: Any) -> dict[str, Any]:
    async with api.as_(role, org) as client:
        response = await client.get("/v1/leads", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_only_leads_with_an_open_request_past_its_due_date_are_overdue(
    api: AuditApi, leads: dict[str, str]
) -> None:
    for_coordinator = await _list(api, Role.COORDINATOR, "nfia", overdue="true")
    everything = await _list(api, Role.COORDINATOR, "nfia", overdue="false")
    assert [lead["company_name"] for lead in for_coordinator["results"]] == [
        "Limburg Laat",
        "Later Kwantum",
        "Laat Fotonica",
    ]
    assert for_coordinator["count"] == 3 and everything["count"] == 7


async def test_overdue_matches_only_leads_the_caller_sees_in_full(
    api: AuditApi, leads: dict[str, str]
) -> None:
    for_bom = await _list(api, Role.TASKFORCE, "bom", overdue="true")
    listed = await _list(api, Role.TASKFORCE, "bom")
    assert {lead["lead_id"] for lead in for_bom["results"]} == {
        leads["Laat Fotonica"],
        leads["Later Kwantum"],
    }
    assert leads["Limburg Laat"] in {lead["lead_id"] for lead in listed["results"]}  # listed, by code name


async def test_paging_through_overdue_leads_keeps_the_filter(api: AuditApi, leads: dict[str, str]) -> None:
    first = await _list(api, Role.COORDINATOR, "nfia", overdue="true", limit=2)
    assert first["count"] == 3 and "overdue=true" in first["next"]
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        second = (await coordinator.get(first["next"])).json()
    assert [lead["company_name"] for lead in second["results"]] == ["Laat Fotonica"]
    assert second["next"] is None


def _browser(api: AuditApi, role: Role, org: str) -> httpx.AsyncClient:
    token = mint_token(api.container.settings, role=role, org=org, sub=f"anna@{org}.nl")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api.app),
        base_url="http://testserver",
        cookies={SESSION_COOKIE: token, CSRF_COOKIE: "csrf"},
    )


def _rows(page: str) -> list[str]:
    return re.findall(
        r'<td><a href="/ui/leads/[^"]+">[^<]+</a>\s*<br><span class="klein">([^<]+)</span>', page
    )


def _link(page: str, name: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="[a-z]+">(?:<span[^>]*>[^<]*</span>)?{name}', page)
    return found.group(1).replace("&amp;", "&") if found else None


async def test_werkvoorraad_shows_one_page_with_links_that_keep_filters_and_search(
    api: AuditApi, leads: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worklist, "PAGE", 2)
    async with _browser(api, Role.COORDINATOR, "nfia") as browser:
        first = (await browser.get("/ui/werkvoorraad", params={"fase": "brokering", "zoek": "project"})).text
        next_link = _link(first, "Volgende pagina")
        assert next_link is not None
        second = (await browser.get(next_link)).text
        last = (await browser.get("/ui/werkvoorraad?fase=brokering&zoek=project&pagina=3")).text
    assert _rows(first) == ["Limburg Laat", "Optijd Robotica"]  # the overdue one first on its page
    assert (
        "1 tot en met 2 van 6 leads" in first
        and "Pagina 1 van 3" in first
        and _link(first, "Vorige pagina") is None
    )
    assert "fase=brokering" in next_link and "zoek=project" in next_link and "pagina=2" in next_link
    assert (
        _rows(second) == ["Ingetrokken Sensoren", "Beantwoord Chips"]
        and "3 tot en met 4 van 6 leads" in second
    )
    assert _link(second, "Vorige pagina") == "/ui/werkvoorraad?fase=brokering&zoek=project&pagina=1"
    assert _rows(last) == ["Later Kwantum", "Laat Fotonica"] and "5 tot en met 6 van 6 leads" in last
    assert _link(last, "Volgende pagina") is None


async def test_werkvoorraad_asks_the_api_for_overdue_leads_only(
    api: AuditApi, leads: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worklist, "PAGE", 1)
    async with _browser(api, Role.TASKFORCE, "bom") as browser:
        first = (await browser.get("/ui/werkvoorraad", params={"verlopen": "1"})).text
        next_link = _link(first, "Volgende pagina")
        assert next_link is not None and "verlopen=1" in next_link
        second = (await browser.get(next_link)).text
    assert _rows(first) == ["Later Kwantum"] and "1 tot en met 1 van 2 leads" in first
    assert "op deze pagina <strong>1 met een verlopen verzoek</strong>" in first
    assert _rows(second) == ["Laat Fotonica"] and "2 tot en met 2 van 2 leads" in second


async def test_werkvoorraad_past_its_last_page_links_back_and_a_bad_page_number_means_the_first(
    api: AuditApi, leads: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worklist, "PAGE", 2)
    async with _browser(api, Role.COORDINATOR, "nfia") as browser:
        beyond = (await browser.get("/ui/werkvoorraad", params={"pagina": "9"})).text
        bad = [
            await browser.get("/ui/werkvoorraad", params={"pagina": page}) for page in ("²", "0", "9" * 5000)
        ]
    assert "Geen leads op pagina 9; er zijn 7 leads" in beyond and _rows(beyond) == []
    assert _link(beyond, "Vorige pagina") == "/ui/werkvoorraad?pagina=4"
    assert [response.status_code for response in bad] == [200, 200, 200]
    assert all("1 tot en met 2 van 7 leads" in response.text for response in bad)
