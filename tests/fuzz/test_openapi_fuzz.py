"""Schemathesis against the served API's /openapi.json, with valid tokens of several roles: for every
operation a bounded number of generated requests (fixed seed), each sent with every role's token, half
of them about a real lead, request and demand. No answer may be a 5xx, and every answer must match the
schema: status code, content type and body (problems included)."""

import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from services.api.app import create_app
from services.auth import Role, mint_token
from services.settings import Settings
from tests.fuzz.served_api import ServedApi

EXAMPLES_PER_OPERATION = 5
PRINCIPALS = {
    "taskforce-owner": (Role.TASKFORCE, "bom"),
    "coordinator": (Role.COORDINATOR, "nfia"),
    "partner": (Role.PARTNER, "provincie-gelderland"),
    "auditor": (Role.AUDITOR, "adr"),
    "admin": (Role.ADMIN, "beheer"),
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    api = ServedApi(tmp_path_factory.mktemp("fuzz"))
    api.start()
    yield api
    api.stop()


@pytest.fixture
def seeded(served: ServedApi) -> dict[str, str]:
    """A lead in brokering with a demand and a partner request, to aim half of the requests at (a fresh
    one per operation, so one lead does not take every operation's examples)."""
    token = mint_token(served.settings, role=Role.TASKFORCE, org="bom", sub="fuzz@bom")
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as bom:
        signal = {"company": {"name": "Fuzz BV"}, "owner_org": "bom", "home_region": "zuid"}
        lead = bom.post("/v1/leads", json=signal)
        lead_id = lead.json()["lead_id"]
        demand = bom.post(f"/v1/leads/{lead_id}/demands", json={"kind": "talent", "fte_hbo": 4})
        bom.post(f"/v1/leads/{lead_id}/articulation/complete")
        body = {"partner_id": "provincie-gelderland", "question": "Room?", "due_date": "2031-01-01"}
        request = bom.post(f"/v1/leads/{lead_id}/partner-requests", json=body)
    return {
        "lead_id": lead_id,
        "demand_id": demand.json()["demand_id"],
        "request_id": request.json()["request_id"],
        "partner_id": "provincie-gelderland",
        "org": "oost-nl",
        "period": "2026-H1",
    }


@pytest.fixture(scope="module")
def tokens(served: ServedApi) -> dict[str, str]:
    return {
        who: mint_token(served.settings, role=role, org=org, sub=f"{role.value}@{org}")
        for who, (role, org) in PRINCIPALS.items()
    }


# The same document the served API answers at /openapi.json (built here so tests can be collected).
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())


def aim_at_the_seeded_lead(case: Any, seeded: dict[str, str]) -> None:
    """Every other case (chosen by its content, so runs repeat) uses the real ids."""
    if not case.path_parameters or zlib.crc32(repr(case.body).encode()) % 2:
        return
    for name in case.path_parameters:
        if name in seeded:
            case.path_parameters[name] = seeded[name]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    phases=[Phase.generate],  # schemathesis adds hundreds of explicit examples per operation otherwise
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_matches_the_schema(
    case: Any, served: ServedApi, tokens: dict[str, str], seeded: dict[str, str]
) -> None:
    aim_at_the_seeded_lead(case, seeded)
    for token in tokens.values():
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=served.url, headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)


def test_the_fuzzed_schema_is_the_one_the_api_serves(served: ServedApi) -> None:
    served_schema = httpx.get(f"{served.url}/openapi.json").json()
    assert served_schema == schema.raw_schema
    assert len([result.ok() for result in schema.get_all_operations()]) >= 35
