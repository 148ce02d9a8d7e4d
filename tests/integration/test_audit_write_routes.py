"""Auditors read everything and change nothing: every write route of the app answers 403 to them."""

import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from events import commands as cmd
from services.auth import Role
from services.lead_commands import LeadCommandService
from services.projections.projector import Projector
from tests.integration.audit_support import AuditApi, LeadWriter

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# A valid body per route, so the answer is about the caller and not the input; routes not listed get {}.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/leads"): {"company": {"name": "Audit BV"}, "owner_org": "bom", "home_region": "zuid"},
    ("PATCH", "/v1/leads/{lead_id}"): {"summary": "changed"},
    ("POST", "/v1/leads/{lead_id}/demands"): {"kind": "talent", "fte_hbo": 3},
    ("PUT", "/v1/leads/{lead_id}/demands/{demand_id}"): {"status": "matched"},
    ("POST", "/v1/leads/{lead_id}/options"): {"region": "oost"},
    ("POST", "/v1/leads/{lead_id}/partner-requests"): {
        "partner_id": "provincie-gelderland",
        "question": "Is there room?",
        "due_date": "2030-01-01",
    },
    ("POST", "/v1/partner-requests/{request_id}/response"): {"answer": "offer", "details": {"site": "x"}},
    ("POST", "/v1/leads/{lead_id}/decision"): {"declined_reason": "too far"},
    ("POST", "/v1/leads/{lead_id}/company-stage"): {"company_stage": "scale_up"},
    ("POST", "/v1/leads/{lead_id}/outcome"): {"code": "withdrawn"},
    ("POST", "/v1/leads/{lead_id}/investment-confirmation"): {"amount_eur": 1000},
    ("POST", "/v1/leads/{lead_id}/hold"): {"reason": "waiting"},
    ("POST", "/v1/leads/{lead_id}/notes"): {"text": "a note"},
    ("POST", "/v1/leads/{lead_id}/identity-disclosures"): {"to_org": "provincie-gelderland", "reason": "ok"},
    ("POST", "/v1/leads/{lead_id}/contacts"): {"name": "Anna de Vries"},
    ("PUT", "/v1/partners/{partner_id}"): {"name": "Provincie Gelderland", "kind": "province"},
}


def iter_routes(app: FastAPI) -> Iterable[Any]:
    """Every route of the app, included routers flattened."""
    try:  # FastAPI >= 0.16x keeps included routers as such; this flattens them
        from fastapi.routing import iter_route_contexts

        return list(iter_route_contexts(app.routes))
    except ImportError:
        return list(app.routes)


def write_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every API route of the app that writes (the web UI's forms call these)."""
    return sorted(
        (method, route.path)
        for route in iter_routes(app)
        if route.path.startswith("/v1/")
        for method in (getattr(route, "methods", None) or set()) & WRITE_METHODS
    )


@pytest.fixture
async def api(database_url: str, temporal_env: WorkflowEnvironment) -> AsyncIterator[AuditApi]:
    api = await AuditApi.on(
        database_url, temporal_task_queue=f"nobody-polls-{uuid.uuid4()}", command_timeout_seconds=2
    )
    # A real command service: were an auditor let through, the command would be sent (and time out).
    api.container.commands = LeadCommandService(temporal_env.client, api.store, api.container.settings)
    yield api
    await api.container.close()


async def _lead_in_brokering(api: AuditApi) -> dict[str, str]:
    """Path parameters naming a real lead, demand, partner request and partner."""
    lead = await LeadWriter(api.store).signal("2026-06-01T09:00:00Z")
    demand_id, request_id = uuid.uuid4(), uuid.uuid4()
    await lead.do(cmd.ArticulateDemand(demand_id=demand_id, spec={"kind": "energy"}), "2026-06-02T09:00:00Z")
    await lead.do(cmd.CompleteArticulation(), "2026-06-03T09:00:00Z")
    request = cmd.SendPartnerRequest(
        request_id=request_id, partner_id="provincie-gelderland", question="Room?", due_date=date(2030, 1, 1)
    )
    await lead.do(request, "2026-06-04T09:00:00Z")
    await Projector(api.store.engine).run_once()
    return {
        "lead_id": str(lead.lead_id),
        "demand_id": str(demand_id),
        "request_id": str(request_id),
        "partner_id": "provincie-gelderland",
        "org": "oost-nl",
    }


async def test_every_write_route_answers_403_to_an_auditor_and_writes_nothing(api: AuditApi) -> None:
    ids = await _lead_in_brokering(api)
    routes = write_routes(api.app)
    assert len(routes) >= len(BODIES)  # the table is a floor: new write routes are checked too
    before = await api.store.read_all()
    answers = {}
    async with api.as_(Role.AUDITOR, "adr") as auditor:
        for method, template in routes:
            path = template.format_map(_Filled(ids))
            response = await auditor.request(method, path, json=BODIES.get((method, template), {}))
            answers[f"{method} {template}"] = (response.status_code, response.json().get("detail"))
    not_refused = {route: answer for route, answer in answers.items() if answer[0] != 403}
    assert not_refused == {}, "a route answering 422 needs a valid sample body in BODIES"
    assert await api.store.read_all() == before


class _Filled(dict[str, str]):
    """Path parameters: the real ids where known, a fresh id for anything else."""

    def __missing__(self, name: str) -> str:
        return str(uuid.uuid4())
