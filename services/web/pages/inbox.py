"""The partner inbox: the requests addressed to the user's organisation, each answered with a form."""

import uuid
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.web.client import ApiDep, Problem
from services.web.rendering import error_page, render
from services.web.session import CsrfChecked, SessionDep, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/ui/verzoeken")
async def inbox(request: Request, session: SessionDep, api: ApiDep, beantwoord: str = "") -> Response:
    melding = "Uw antwoord is verstuurd aan de taskforce." if beantwoord else None
    return await _page(request, api, {"melding": melding})


async def _page(request: Request, api: ApiDep, extra: dict[str, Any], status: int = 200) -> Response:
    answer = await api.get("/v1/partner-requests")
    if answer.problem:
        return error_page(request, answer.status, answer.problem.title, answer.problem.detail)
    requests = answer.body
    context = {
        "open": [r for r in requests if r["status"] == "open"],
        "closed": [r for r in requests if r["status"] != "open"],
        "idempotency_key": str(uuid.uuid4()),
    }
    return render(request, "inbox.html", context | extra, status)


@router.post("/ui/verzoeken/{request_id}/antwoord", dependencies=[CsrfChecked])
async def answer_request(request: Request, request_id: UUID, session: SessionDep, api: ApiDep) -> Response:
    form = await request.form()
    body: dict[str, Any] = {"answer": form.get("answer") or None}
    if details := str(form.get("details") or "").strip():
        body["details"] = {"toelichting": details}
    if reason := str(form.get("reason") or "").strip():
        body["reason"] = reason
    answer = await api.send(
        "POST",
        f"/v1/partner-requests/{request_id}/response",
        body,
        idempotency_key=str(form.get("idempotency_key") or "") or None,
    )
    if answer.ok:
        return RedirectResponse("/ui/verzoeken?beantwoord=1", status_code=303)
    problem: Problem | None = answer.problem
    values = {key: form.get(key) for key in form}
    return await _page(
        request, api, {"problem": problem, "failed": str(request_id), "values": values}, answer.status
    )
