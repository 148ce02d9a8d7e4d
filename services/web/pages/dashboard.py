"""The dashboard: impact against pro-rata targets, funnel, flows, bottlenecks, lead times, partners."""

import asyncio

from fastapi import APIRouter, Request, Response

from services.auth import Role
from services.web.charts import panels
from services.web.client import ApiDep
from services.web.rendering import error_page, render
from services.web.session import SessionDep, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/ui/dashboard")
async def dashboard(request: Request, session: SessionDep, api: ApiDep) -> Response:
    impact, found = await asyncio.gather(
        api.get("/v1/monitoring/impact"), api.get("/v1/monitoring/breakdowns")
    )
    for answer in (impact, found):
        if answer.problem:
            return error_page(request, answer.status, answer.problem.title, answer.problem.detail)
    partners = None if session.role is Role.MINISTRY else await api.get("/v1/monitoring/partners")
    b = found.body
    charts = {
        "figures": panels.figure_panels(impact.body),
        "investment": panels.investment_chart(impact.body),
        "funnel": panels.funnel_chart(b["funnel"]),
        "flows": panels.flows_chart(b["flows"]),
        "bottlenecks": panels.bottleneck_chart(b["bottlenecks"]),
        "lead_times": panels.lead_time_chart(b["lead_times"]),
    }
    rows = partners.body if partners is not None and partners.ok else []
    if rows:
        charts["partners"] = panels.partner_chart(
            [(p["partner_id"], p["median_response_days"]) for p in rows]
        )
    context = {"impact": impact.body, "breakdowns": b, "charts": charts, "partners": rows}
    return render(request, "dashboard.html", context)
