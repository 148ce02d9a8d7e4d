"""The HTTP edge in-process: problem responses, authorisation and the bounded command timeout."""

import uuid

import pytest
from sqlalchemy.exc import DBAPIError

from events.errors import ConcurrencyError, InvalidCommandError, LeadNotFoundError, StageConflictError
from services.access import ForbiddenError
from services.api.app import MAX_BODY_BYTES
from services.api.problems import PROBLEMS, BadRequestError, NotFoundError, PayloadTooLargeError
from services.auth import AuthenticationError, IdentityProviderUnavailableError, Role
from services.lead_commands import CommandTimeoutError, WorkflowServiceUnavailableError
from services.persistence.event_store import SqlEventStore
from tests.integration.conftest import Api

LEAD = {"company": {"name": "Kwantum Koppel B.V."}, "owner_org": "bom", "home_region": "zuid"}


def test_every_domain_and_edge_error_maps_to_its_status() -> None:
    statuses = {error: status for error, (status, _, _) in PROBLEMS.items()}
    assert statuses == {
        AuthenticationError: 401,
        ForbiddenError: 403,
        LeadNotFoundError: 404,
        NotFoundError: 404,
        StageConflictError: 409,
        ConcurrencyError: 409,
        PayloadTooLargeError: 413,
        InvalidCommandError: 422,
        CommandTimeoutError: 503,
        DBAPIError: 503,
        ConnectionError: 503,
        WorkflowServiceUnavailableError: 503,
        IdentityProviderUnavailableError: 503,
        BadRequestError: 400,
    }


async def test_command_without_a_worker_answers_503_instead_of_hanging(api_without_worker: Api) -> None:
    async with api_without_worker.as_(Role.TASKFORCE, "bom") as bom:
        response = await bom.post("/v1/leads", json=LEAD)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry with the same key" in response.json()["detail"]


async def test_no_token_is_401_problem(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        response = await bom.get("/v1/leads", headers={"Authorization": "Bearer not-a-jwt"})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:groeiruimte:problem:unauthenticated"


async def test_invalid_body_is_422_with_invalid_params_and_writes_nothing(
    api: Api, store: SqlEventStore
) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        response = await bom.post("/v1/leads", json={**LEAD, "home_region": "atlantis", "life_phase": 9})
    body = response.json()
    assert response.status_code == 422
    assert {param["name"] for param in body["invalidParams"]} == {"home_region", "life_phase"}
    assert await store.read_all() == []


async def test_body_over_the_limit_is_413(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        response = await bom.post("/v1/leads", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert response.headers["API-Version"]


async def test_unknown_lead_is_404_problem(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        response = await bom.get(f"/v1/leads/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["title"] == "Lead not found"


@pytest.mark.parametrize(
    ("role", "org", "status"),
    [
        (Role.TASKFORCE, "liof", 403),
        (Role.AUDITOR, "adr", 403),
        (Role.MINISTRY, "ministerie-ez", 404),  # may not know the lead exists
        (Role.PARTNER, "bom", 404),
    ],
)
async def test_only_the_owning_taskforce_and_coordinator_may_write(
    api: Api, role: Role, org: str, status: int
) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, api.as_(role, org) as other:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        assert (await other.post("/v1/leads", json=LEAD)).status_code == 403
        assert (await other.post(f"/v1/leads/{lead_id}/notes", json={"text": "x"})).status_code == status
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        assert (await coordinator.post(f"/v1/leads/{lead_id}/notes", json={"text": "ok"})).status_code == 201


async def test_ministry_sees_figures_but_no_lead_level_data(api: Api) -> None:
    async with api.as_(Role.MINISTRY, "ministerie-ez") as ministry:
        assert (await ministry.get("/v1/leads")).status_code == 403
        assert (await ministry.get("/v1/monitoring/impact")).status_code == 200


async def test_back_dated_step_keeps_business_time_apart_from_record_time(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        lead = (await bom.post("/v1/leads", json={**LEAD, "occurred_at": "2026-03-02T09:00:00Z"})).json()
        events = (await bom.get(f"/v1/leads/{lead['lead_id']}/events")).json()
        before = await bom.get(f"/v1/leads/{lead['lead_id']}/state", params={"as_of": "2026-03-01T00:00:00Z"})
    assert events[0]["occurred_at"] == "2026-03-02T09:00:00Z"
    assert events[0]["recorded_at"] > events[0]["occurred_at"]
    assert before.status_code == 404


async def test_correlation_id_follows_a_command_into_its_events_and_metrics_count_it(api: Api) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        signalled = await bom.post("/v1/leads", json=LEAD, headers={"X-Correlation-ID": "trace-kraanvogel-1"})
        events = (await bom.get(f"/v1/leads/{signalled.json()['lead_id']}/events")).json()
        refused = await bom.post(f"/v1/leads/{signalled.json()['lead_id']}/articulation/complete")
        metrics = (await bom.get("/metrics")).text
    assert signalled.headers["X-Correlation-ID"] == "trace-kraanvogel-1"
    assert events[0]["metadata"]["correlation_id"] == "trace-kraanvogel-1"
    assert refused.status_code == 409
    assert 'groeiruimte_commands_total{command="SignalLead",outcome="accepted"}' in metrics
    assert 'groeiruimte_commands_total{command="CompleteArticulation",outcome="rejected"}' in metrics
    assert "groeiruimte_projection_lag_events" in metrics
