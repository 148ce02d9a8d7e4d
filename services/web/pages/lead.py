"""The lead page (facts, demands, partner requests, timeline, every step as a form) and signalling a lead."""

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from events.reference import ORGANISATIONS
from services.access import LeadAccess, lead_access
from services.web.client import ApiClient, ApiDep, Problem
from services.web.forms import (
    ACTIONS,
    AMEND_FIELDS,
    CONTACT,
    DEMAND_ACTIONS,
    NOTICES,
    REVISION_ACTIONS,
    SIGNAL,
    STEP_ACTIONS,
    Action,
    changed_only,
    prefilled,
)
from services.web.rendering import error_page, render
from services.web.session import CsrfChecked, SessionDep, WebRoute, WebSession
from services.web.timeline import timeline

router = APIRouter(route_class=WebRoute, include_in_schema=False)


async def lead_context(api: ApiClient, session: WebSession, lead_id: UUID) -> dict[str, Any] | Problem:
    """Everything the lead page shows, as the API gives it to this user; a Problem when it refuses."""
    answer = await api.get(f"/v1/leads/{lead_id}")
    if answer.problem:
        return answer.problem
    lead = answer.body
    full = "version" in lead
    events = await api.get(f"/v1/leads/{lead_id}/events") if full else None
    writable = full and session.may_write and lead["stage"] != "closed"
    partners = await api.get("/v1/partners") if writable else None
    open_requests = [r for r in lead.get("partner_requests", []) if r["status"] == "open"]
    return {
        "lead": lead,
        "full": full,
        "timeline": timeline(events.body) if events and events.ok else [],
        "writable": writable,
        "demand_actions": [a for a in DEMAND_ACTIONS if lead["stage"] in a.stages],
        "step_actions": [a for a in STEP_ACTIONS if _offered(a, lead["stage"], bool(open_requests))],
        "revisions": _revisions(lead),
        "current": _current_details(lead),
        "partners": partners.body if partners and partners.ok else [],
        "organisations": {slug: entry[0] for slug, entry in ORGANISATIONS.items()},
        "open_requests": open_requests,
        "idempotency_key": str(uuid.uuid4()),
        "today": datetime.now(UTC).date().isoformat(),
    } | _contact_forms(session, lead, writable)


def _contact_forms(session: WebSession, lead: dict[str, Any], writable: bool) -> dict[str, Any]:
    """Which contact person forms to offer: only where the API shows the contacts (`contacts` not null);
    erasing also on a closed lead, for the owning organisation and the coordinator (as the API decides)."""
    shown = lead.get("contacts") is not None
    access = lead_access(session.principal, lead.get("owner_org", ""), lead.get("case_team") or [])
    return {
        "contacts": lead.get("contacts"),
        "contact_action": CONTACT,
        "may_add_contact": shown and writable and lead["stage"] in CONTACT.stages,
        "may_erase_contacts": shown and session.may_write and access >= LeadAccess.MANAGE,
    }


def _offered(action: Action, stage: str, has_open_request: bool) -> bool:
    return stage in action.stages and (has_open_request or not action.on_open_request)


def _revisions(lead: dict[str, Any]) -> list[dict[str, Any]]:
    """One revision form per demand while demands may change: its step and its current values."""
    return [
        {"action": action, "demand": demand, "current": _demand_values(demand)}
        for demand in lead.get("demands", [])
        if lead["stage"] in (action := REVISION_ACTIONS[demand["spec"]["kind"]]).stages
    ]


def _demand_values(demand: dict[str, Any]) -> dict[str, Any]:
    plain = {key: demand.get(key) for key in ("needed_by", "description")}
    return prefilled(demand["spec"], prefix="spec.") | prefilled(plain)


def _current_details(lead: dict[str, Any]) -> dict[str, Any]:
    """The amendment form's starting values: the lead's details as they stand."""
    company = prefilled(lead.get("company") or {}, prefix="company.")
    return company | prefilled({name: lead.get(name) for name in AMEND_FIELDS if "." not in name})


@router.get("/ui/leads/nieuw")
async def new_lead(request: Request, session: SessionDep) -> Response:
    return render(request, "lead_new.html", _new_context(session))


def _new_context(session: WebSession, **extra: Any) -> dict[str, Any]:
    owners = {slug: entry[0] for slug, entry in ORGANISATIONS.items()}
    return {
        "owners": owners,
        "values": {"owner_org": session.principal.org},
        "idempotency_key": str(uuid.uuid4()),
        "today": datetime.now(UTC).date().isoformat(),
    } | extra


@router.post("/ui/leads", dependencies=[CsrfChecked])
async def signal_lead(request: Request, session: SessionDep, api: ApiDep) -> Response:
    form = await request.form()
    answer = await api.send(
        "POST",
        "/v1/leads",
        SIGNAL.body(form, form.getlist),
        reason=str(form.get("toelichting") or "") or None,
        idempotency_key=str(form.get("idempotency_key") or "") or None,
    )
    if answer.problem:
        values = {key: form.getlist(key) if key == "domains" else form.get(key) for key in form}
        context = _new_context(session, problem=answer.problem, values=values, failed=SIGNAL.key)
        return render(request, "lead_new.html", context, answer.status)
    return RedirectResponse(f"/ui/leads/{answer.body['lead_id']}?gedaan=signaleren", status_code=303)


@router.get("/ui/leads/{lead_id}")
async def lead_page(
    request: Request, lead_id: UUID, session: SessionDep, api: ApiDep, gedaan: str = ""
) -> Response:
    context = await lead_context(api, session, lead_id)
    if isinstance(context, Problem):
        return error_page(request, context.status, context.title, context.detail)
    return render(request, "lead.html", context | {"melding": NOTICES.get(gedaan)})


@router.post("/ui/leads/{lead_id}/stappen/{step}", dependencies=[CsrfChecked])
async def take_step(request: Request, lead_id: UUID, step: str, session: SessionDep, api: ApiDep) -> Response:
    """Run one step through the API; on a refusal show the page again with the API's reasons."""
    action = ACTIONS.get(step)
    if action is None:
        return error_page(request, 404, "Onbekende stap", f"De stap {step!r} bestaat niet.")
    form = await request.form()
    answer = await _send(api, action, lead_id, form)
    if answer.ok:
        return RedirectResponse(f"/ui/leads/{lead_id}?gedaan={step}#tijdlijn", status_code=303)
    context = await lead_context(api, session, lead_id)
    if isinstance(context, Problem):
        return error_page(request, context.status, context.title, context.detail)
    values = {key: form.getlist(key) if key.endswith(LISTED) else form.get(key) for key in form}
    context |= {"failed": action.form_id(form), "problem": answer.problem, "values": values}
    return render(request, "lead.html", context, answer.status)


LISTED = ("demand_ids", "domains", "instruments")


async def _send(api: ApiClient, action: Action, lead_id: UUID, form: Any) -> Any:
    body = action.body(form, form.getlist)
    if action.changes_only:
        current = await api.get(f"/v1/leads/{lead_id}")
        body = changed_only(body, current.body) if current.ok else body
    return await api.send(
        action.method,
        action.api_path(lead_id, form),
        body,
        reason=str(form.get("toelichting") or "") or None,
        idempotency_key=str(form.get("idempotency_key") or "") or None,
    )
