"""Werkvoorraad: the leads the user may see, with filters, search and overdue partner requests first.

Filters and search are query parameters of the API's lead list: the search matches the company's name
only where the user may see it, so the page never learns (or shows) a match on a hidden name.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from events.brokering import reminder_at
from events.reference import ORGANISATIONS, OrganisationKind
from events.state import PartnerRequest
from services.web.client import Answer, ApiClient, ApiDep
from services.web.rendering import error_page, render
from services.web.session import SessionDep, WebRoute, container_of

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 100
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
) -> Response:
    filters = {
        "stage": fase,
        "region": regio,
        "domain": domein,
        "owner_org": eigenaar,
        "search": zoek.strip(),
    }
    leads, answer = await all_leads(api, filters)
    if answer.problem:
        return error_page(request, answer.status, answer.problem.title, answer.problem.detail)
    items = await asyncio.gather(*(_item(request, api, lead) for lead in leads))
    shown = sorted((i for i in items if i.overdue or not verlopen), key=lambda i: not i.overdue)
    context = {"items": shown, "owners": OWNERS, "total": len(leads), "today": datetime.now(UTC).date()}
    context["filters"] = {**filters, "zoek": zoek, "verlopen": verlopen}
    return render(request, "worklist.html", context)


async def all_leads(api: ApiClient, filters: dict[str, str]) -> tuple[list[dict[str, Any]], Answer]:
    """Every page of GET /v1/leads with the filters given."""
    leads: list[dict[str, Any]] = []
    while True:
        answer = await api.get("/v1/leads", **filters, limit=PAGE, offset=len(leads))
        if not answer.ok:
            return leads, answer
        leads += answer.body["results"]
        if answer.body["next"] is None:
            return leads, answer


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
