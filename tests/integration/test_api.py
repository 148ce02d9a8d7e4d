"""The HTTP edge in-process: problem responses, authorisation and the bounded command timeout."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from events.errors import ConcurrencyError, InvalidCommandError, LeadNotFoundError, StageConflictError
from services.access import ForbiddenError
from services.api.app import MAX_BODY_BYTES, create_app
from services.api.problems import PROBLEMS, NotFoundError, PayloadTooLargeError
from services.auth import AuthenticationError, Role, mint_token
from services.container import Container
from services.lead_commands import CommandTimeoutError, LeadCommandService, WorkflowServiceUnavailableError
from services.persistence.event_store import SqlEventStore
from services.settings import Settings

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
        WorkflowServiceUnavailableError: 503,
    }


class Api:
    def __init__(self, transport: httpx.ASGITransport, settings: Settings) -> None:
        self._transport = transport
        self._settings = settings

    def as_(self, role: Role, org: str) -> httpx.AsyncClient:
        token = mint_token(self._settings, role=role, org=org, sub=f"{role.value}@{org}")
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(transport=self._transport, base_url="http://api", headers=headers)


async def _api(
    temporal_env: WorkflowEnvironment, store: SqlEventStore, task_queue: str, command_timeout: float
) -> Api:
    settings = Settings(temporal_task_queue=task_queue, command_timeout_seconds=command_timeout)
    commands = LeadCommandService(temporal_env.client, store, settings)
    container = Container(settings, store.engine, store, temporal_env.client, commands)
    return Api(httpx.ASGITransport(app=create_app(settings, container)), settings)


@pytest.fixture
async def api(temporal_env: WorkflowEnvironment, store: SqlEventStore, worker: Worker) -> Api:
    return await _api(temporal_env, store, worker.task_queue, command_timeout=20)


@pytest.fixture
async def api_without_worker(temporal_env: WorkflowEnvironment, store: SqlEventStore) -> AsyncIterator[Api]:
    yield await _api(temporal_env, store, f"nobody-polls-{uuid.uuid4()}", command_timeout=1)


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
    ("role", "org"),
    [
        (Role.TASKFORCE, "liof"),
        (Role.AUDITOR, "adr"),
        (Role.MINISTRY, "ministerie-ez"),
        (Role.PARTNER, "bom"),
    ],
)
async def test_only_the_owning_taskforce_and_coordinator_may_write(api: Api, role: Role, org: str) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as bom, api.as_(role, org) as other:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        assert (await other.post("/v1/leads", json=LEAD)).status_code == 403
        assert (await other.post(f"/v1/leads/{lead_id}/notes", json={"text": "x"})).status_code == 403
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
