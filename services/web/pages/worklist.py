"""Werkvoorraad: the leads the user may see, one page at a time, with filters, search and overdue
partner requests first on each page.

Filters, search and "only overdue requests" are query parameters of the API's lead list: the search
matches the company's name only where the user may see it, so the page never learns (or shows) a match
on a hidden name.
"""

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from events.brokering import reminder_at
from events.reference import ORGANISATIONS, OrganisationKind
from events.state import PartnerRequest
from services.web.client import ApiClient, ApiDep
from services.web.rendering import error_page, render
from services.web.session import SessionDep, WebRoute, container_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 25  # leads per page
KEPT = ("fase", "regio", "domein", "eigenaar", "zoek", "verlopen")  # what the page links keep
OWNER_KINDS = {
    OrganisationKind.ROM,
    OrganisationKind.NFIA,
    OrganisationKind.INVEST_NL,
    OrganisationKind.TRIPLE_HELIX,
}
OWNERS = {slug: name for slug, (name, kind, _) in ORGANISATIONS.items() if kind in OWNER_KINDS}


@dataclass(frozen=True)
class WorkItem:
    lead: dict[str, Any]
    full: bool
    due: date | None = None
    reminders: int = 0
    next_reminder: date | None = None
    overdue: bool = False


@router.get("/ui/werkvoorraad")
async def worklist(
    request: Request,
    session: SessionDep,
    api: ApiDep,
    fase: str = "",
    regio: str = "",
    domein: str = "",
    eigenaar: str = "",
    zoek: str = "",
    verlopen: str = "",
    pagina: str = "1",
) -> Response:
    filters = {
        "stage": fase,
        "region": regio,
        "domain": domein,
        "owner_org": eigenaar,
        "search": zoek.strip(),
    }
    number = _page_number(pagina)
    answer = await api.get(
        "/v1/leads", **filters, overdue="true" if verlopen else None, limit=PAGE, offset=(number - 1) * PAGE
    )
    if answer.problem:
        return error_page(request, answer.status, answer.problem.title, answer.problem.detail)
    items = await asyncio.gather(*(_item(request, api, lead) for lead in answer.body["results"]))
    shown = sorted(items, key=lambda i: not i.overdue)  # stable: newest first within each group
    context = {"items": shown, "owners": OWNERS, "today": datetime.now(UTC).date()}
    context["filters"] = {**filters, "zoek": zoek, "verlopen": verlopen}
    asked = {name: request.query_params.get(name, "") for name in KEPT}
    context["paging"] = paging(asked, number, int(answer.body["count"]), len(shown))
    return render(request, "worklist.html", context)


def _page_number(text: str) -> int:
    """The page asked for; anything but a whole number from 1 to 99999 is the first page."""
    return int(text) if re.fullmatch(r"[1-9][0-9]{0,4}", text) else 1


def paging(asked: dict[str, str], number: int, count: int, shown: int) -> dict[str, Any]:
    """Where this page lies in the list, and links to the pages before and after it (filters kept)."""
    pages = max(1, -(-count // PAGE))
    kept = {name: value for name, value in asked.items() if value}

    def link(to: int) -> str:
        return "/ui/werkvoorraad?" + urlencode({**kept, "pagina": to})

    first = (number - 1) * PAGE + 1
    return {
        "number": number,
        "pages": pages,
        "count": count,
        "first": first if shown else 0,
        "last": first + shown - 1 if shown else 0,
        "previous": link(min(number - 1, pages)) if number > 1 else None,
        "next": link(number + 1) if number < pages else None,
    }


async def _item(request: Request, api: ApiClient, lead: dict[str, Any]) -> WorkItem:
    full = "owner_org" in lead
    if not full or not lead.get("open_partner_requests"):
        return WorkItem(lead, full)
    answer = await api.get(f"/v1/leads/{lead['lead_id']}")
    requests = (
        [r for r in answer.body.get("partner_requests", []) if r["status"] == "open"] if answer.ok else []
    )
    if not requests:
        return WorkItem(lead, full)
    policy = container_of(request).settings.brokering_policy()
    first = min((PartnerRequest.model_validate(r) for r in requests), key=lambda r: r.due_date)
    upcoming = [
        reminder_at(r, r.reminders_sent + 1, policy).date()
        for r in map(PartnerRequest.model_validate, requests)
        if r.reminders_sent < policy.max_reminders
    ]
    return WorkItem(
        lead,
        full,
        due=first.due_date,
        reminders=sum(int(r["reminders_sent"]) for r in requests),
        next_reminder=min(upcoming, default=None),
        overdue=first.due_date < datetime.now(UTC).date(),
    )
