"""Reports: the list, the printable HTML and the XLSX (both from the API), and each half-year's text."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.auth import Role
from services.web.client import Answer, ApiClient, ApiDep, problem_from
from services.web.rendering import error_page, render
from services.web.session import CsrfChecked, SessionDep, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/ui/rapportages")
async def reports(request: Request, session: SessionDep, api: ApiDep, opgeslagen: str = "") -> Response:
    melding = f"De toelichting over {opgeslagen} is opgeslagen." if opgeslagen else None
    return await _page(request, session.role is Role.COORDINATOR, api, {"melding": melding})


async def _page(
    request: Request, editor: bool, api: ApiClient, extra: dict[str, Any], status: int = 200
) -> Response:
    listing = await api.get("/v1/reports")
    if listing.problem:
        return error_page(request, listing.status, listing.problem.title, listing.problem.detail)
    halves = [r["period"] for r in listing.body if r["kind"] == "half_year"]
    texts = await asyncio.gather(*(api.get(f"/v1/reports/{half}/narrative") for half in halves))
    narratives = [t.body for t in texts if t.ok]
    context = {"reports": listing.body, "narratives": narratives, "editor": editor}
    return render(request, "reports.html", context | extra, status)


@router.get("/ui/rapportages/{period}")
async def report_html(request: Request, period: str, session: SessionDep, api: ApiDep) -> Response:
    response = await api.raw(f"/v1/reports/{period}/html")
    if response.status_code >= 400:
        problem = problem_from(response.status_code, response.json())
        return error_page(request, problem.status, problem.title, problem.detail)
    return Response(response.content, media_type="text/html; charset=utf-8")


@router.get("/ui/rapportages/{period}/xlsx")
async def report_xlsx(request: Request, period: str, session: SessionDep, api: ApiDep) -> Response:
    response = await api.raw(f"/v1/reports/{period}/xlsx")
    if response.status_code >= 400:
        problem = problem_from(response.status_code, response.json())
        return error_page(request, problem.status, problem.title, problem.detail)
    headers = {"Content-Disposition": response.headers.get("content-disposition", "attachment")}
    return Response(response.content, media_type=response.headers["content-type"], headers=headers)


@router.post("/ui/rapportages/{period}/toelichting", dependencies=[CsrfChecked])
async def save_text(request: Request, period: str, session: SessionDep, api: ApiDep) -> Response:
    form = await request.form()
    body = {
        "ecosystem": str(form.get("ecosystem") or ""),
        "lessons": str(form.get("lessons") or ""),
        "based_on_version": str(form.get("based_on_version") or "0"),
    }
    answer: Answer = await api.send("PUT", f"/v1/reports/{period}/narrative", body)
    if answer.ok:
        return RedirectResponse(f"/ui/rapportages?opgeslagen={period}#toelichting-{period}", status_code=303)
    extra = {"problem": answer.problem, "failed": period, "values": {k: form.get(k) for k in form}}
    return await _page(request, session.role is Role.COORDINATOR, api, extra, answer.status)
