"""The access matrix (DESIGN §8, services/access.py) walked route by route: every route, every role,
own / case-team / other organisation -> the status and the body's shape.

The lead is closed, so an allowed command is refused by the rules (409) and nothing changes; a refused
caller gets 403, and a caller that may not know the lead exists gets 404 as for an unknown id.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi.routing import APIRoute

from services.auth import Role
from tests.integration.conftest import Api
from tests.integration.test_audit_write_routes import BODIES, iter_routes

COMPANY = "Vertrouwelijk Fotonica B.V."
LEAD = {"company": {"name": COMPANY, "kvk_number": "87654321"}, "owner_org": "bom", "home_region": "zuid"}
BRIEF_KEYS = {"lead_id", "code_name", "stage", "home_region", "domains", "company_name"}

# Who asks: (role, organisation, relation to the lead owned by `bom`).
PRINCIPALS = {
    "taskforce-own": (Role.TASKFORCE, "bom"),
    "taskforce-case-team": (Role.TASKFORCE, "oost-nl"),
    "taskforce-other": (Role.TASKFORCE, "liof"),
    "coordinator": (Role.COORDINATOR, "nfia"),
    "auditor": (Role.AUDITOR, "adr"),
    "partner-addressed": (Role.PARTNER, "provincie-gelderland"),
    "partner-other": (Role.PARTNER, "provincie-utrecht"),
    "ministry": (Role.MINISTRY, "ministerie-ez"),
    "admin": (Role.ADMIN, "beheer"),
}
ALL = set(PRINCIPALS)
HIDDEN = {"partner-addressed", "partner-other", "ministry", "admin"}
WRITERS = {"taskforce-own", "taskforce-case-team", "coordinator"}
MANAGERS = {"taskforce-own", "coordinator"}


def expect(ok: set[str], ok_status: int | str, hidden: set[str] = HIDDEN) -> dict[str, int | str]:
    """`ok` get `ok_status`; `hidden` 404; everyone else 403."""
    return {who: ok_status if who in ok else 404 if who in hidden else 403 for who in PRINCIPALS}


MONITORS = {"taskforce-own", "taskforce-case-team", "taskforce-other", "coordinator", "auditor", "ministry"}
TASKFORCE = {"taskforce-own", "taskforce-case-team", "taskforce-other"}
READERS = {"taskforce-own", "taskforce-case-team", "coordinator", "auditor"}
PARTNERS = {"partner-addressed", "partner-other"}
# "full" / "brief": 200 with that body; a number: that status.
READS: dict[str, dict[str, int | str]] = {
    "GET /v1/leads/{lead_id}": {
        **expect(READERS, "full"),
        "taskforce-other": "brief",
    },
    "GET /v1/leads/{lead_id}/events": expect(
        {"taskforce-own", "taskforce-case-team", "coordinator", "auditor"}, 200
    ),
    "GET /v1/leads/{lead_id}/state": expect(
        {"taskforce-own", "taskforce-case-team", "coordinator", "auditor"}, 200
    ),
    "GET /v1/leads/{lead_id}/export": expect({"taskforce-own", "coordinator", "auditor"}, 200),
    "GET /v1/leads": expect(TASKFORCE | {"coordinator", "auditor"}, 200, set()),
    "GET /v1/partner-requests": expect(
        TASKFORCE | {"coordinator", "partner-addressed", "partner-other"}, 200, set()
    ),
    "GET /v1/monitoring/impact": expect(MONITORS, 200, set()),
    "GET /v1/monitoring/pipeline": expect(MONITORS, 200, set()),
    "GET /v1/monitoring/bottlenecks": expect(MONITORS, 200, set()),
    "GET /v1/monitoring/partners": expect(MONITORS - {"ministry"}, 200, set()),
    "GET /v1/partners": expect(TASKFORCE | {"coordinator", "admin"}, 200, set()),
    "GET /v1/partners/{partner_id}": expect(TASKFORCE | {"coordinator", "admin"}, 200, set()),
    "GET /v1/audit/verification": expect({"coordinator", "auditor"}, 200, set()),
    "GET /v1/audit/access-log": expect({"coordinator", "auditor"}, 200, set()),
}
MANAGING = {
    "POST /v1/leads/{lead_id}/identity-disclosures",
    "POST /v1/leads/{lead_id}/case-team/{org}",
    "DELETE /v1/leads/{lead_id}/case-team/{org}",
}
SPECIAL_WRITES: dict[str, dict[str, int | str]] = {
    "POST /v1/leads": {**expect({"taskforce-own", "coordinator"}, 201, set())},
    "PUT /v1/partners/{partner_id}": expect({"admin"}, 200, set()),
    # Contacts are identity data: the case team sees the code name only, so it may not add them.
    "POST /v1/leads/{lead_id}/contacts": expect(MANAGERS, 409),
    # Erasure is role-based before any lookup (403 whatever the id); it works on a closed lead too.
    "DELETE /v1/persons/{person_id}": expect(MANAGERS, 204, set()),
    "POST /v1/partner-requests/{request_id}/response": {
        **expect(WRITERS | {"partner-addressed"}, 409, HIDDEN - PARTNERS | {"taskforce-other"}),
    },
}


def expected_writes(routes: list[tuple[str, str]]) -> dict[str, dict[str, int | str]]:
    table: dict[str, dict[str, int | str]] = {}
    for method, template in routes:
        route = f"{method} {template}"
        if route in SPECIAL_WRITES:
            table[route] = SPECIAL_WRITES[route]
        else:
            table[route] = expect(MANAGERS if route in MANAGING else WRITERS, 409)
    return table


@pytest.fixture
async def closed_lead(api: Api) -> AsyncIterator[dict[str, str]]:
    """A closed lead of `bom` with `oost-nl` on its case team and an (answered-by-withdrawal) request."""
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        steps: list[tuple[str, dict[str, Any]]] = [
            ("demands", {"kind": "energy", "grid_capacity_mva": 8}),
            ("case-team/oost-nl", {"reason": "receiving region"}),
            ("articulation/complete", {}),
        ]
        answers = [(await bom.post(f"/v1/leads/{lead_id}/{path}", json=body)).json() for path, body in steps]
        request = {"partner_id": "provincie-gelderland", "question": "Room?", "due_date": "2031-01-01"}
        sent = await bom.post(f"/v1/leads/{lead_id}/partner-requests", json=request)
        contact = await bom.post(f"/v1/leads/{lead_id}/contacts", json={"name": "Jan Jansen"})
        await bom.post(f"/v1/leads/{lead_id}/outcome", json={"code": "withdrawn"})
        closed = await bom.post(f"/v1/leads/{lead_id}/close", json={})
    assert closed.json()["stage"] == "closed", closed.text
    await api.project()
    yield {
        "lead_id": lead_id,
        "demand_id": answers[0]["demand_id"],
        "request_id": sent.json()["request_id"],
        "partner_id": "provincie-gelderland",
        "org": "oost-nl",
        "person_id": contact.json()["person_id"],
    }


def own_routes(api: Api) -> list[tuple[str, str]]:
    """(method, path) of every /v1/ route of the API's own routers (services/api/routes)."""
    return sorted(
        (method, context.path)
        for context in iter_routes(api.app)
        if isinstance(getattr(context, "route", context), APIRoute)
        and context.endpoint.__module__.startswith("services.api.routes")
        and context.path.startswith("/v1/")
        for method in context.methods
    )


def _check_body(who: str, expected: int | str, body: Any) -> None:
    if expected == "brief":
        assert set(body) == BRIEF_KEYS and body["company_name"] is None, body
    if expected == "full":
        assert body["owner_org"] == "bom" and "notes" in body, body
        shows_company = who != "taskforce-case-team"  # the case team sees the code name only
        assert (body["company"] is not None) == shows_company, body
    if isinstance(expected, int) and expected in (403, 404):
        assert body["status"] == expected and COMPANY not in str(body)


async def test_every_route_answers_every_role_as_the_matrix_says(
    api: Api, closed_lead: dict[str, str]
) -> None:
    routes = own_routes(api)
    table = {**READS, **expected_writes([r for r in routes if r[0] != "GET"])}
    assert len(routes) > 30 and {f"{m} {p}" for m, p in routes} <= set(table), "a route lacks a matrix row"
    wrong = {}
    for who, (role, org) in PRINCIPALS.items():
        async with api.as_(role, org) as client:
            for route, expectations in table.items():
                method, template = route.split(" ", 1)
                path = template.format(**closed_lead)
                body = BODIES.get((method, template), {}) if method != "GET" else None
                response = await client.request(method, path, json=body)
                expected = expectations[who]
                status = 200 if isinstance(expected, str) else expected
                if response.status_code != status:
                    wrong[f"{who}: {route}"] = (response.status_code, expected, response.text[:200])
                    continue
                if response.headers.get("content-type") in ("application/json", "application/problem+json"):
                    _check_body(who, expected, response.json())
    assert wrong == {}


@pytest.mark.parametrize(
    ("who", "full", "company"),
    [
        ("taskforce-own", True, True),
        ("taskforce-case-team", True, False),
        ("taskforce-other", False, False),
        ("coordinator", True, True),
        ("auditor", True, True),
    ],
)
async def test_the_list_counts_what_the_caller_may_see_and_shapes_each_lead_for_it(
    api: Api, closed_lead: dict[str, str], who: str, full: bool, company: bool
) -> None:
    role, org = PRINCIPALS[who]
    async with api.as_(role, org) as client:
        page = (await client.get("/v1/leads")).json()
        by_owner = (await client.get("/v1/leads", params={"owner_org": "bom"})).json()
    (lead,) = page["results"]
    assert page["count"] == 1
    assert ("owner_org" in lead) == full
    assert (lead["company_name"] == COMPANY) == company
    # Filtering on the owner, which a brief does not show, finds only leads the caller sees in full.
    assert by_owner["count"] == (1 if full else 0)


async def test_an_unknown_lead_and_a_hidden_lead_answer_alike(api: Api, closed_lead: dict[str, str]) -> None:
    async with api.as_(Role.PARTNER, "provincie-gelderland") as partner:
        hidden = await partner.get(f"/v1/leads/{closed_lead['lead_id']}")
        unknown = await partner.get(f"/v1/leads/{uuid.uuid4()}")
    assert hidden.status_code == unknown.status_code == 404
    assert {k: v for k, v in hidden.json().items() if k != "instance"} == {
        k: v for k, v in unknown.json().items() if k != "instance"
    }
