"""Logged reads: every read of lead-level data leaves an append-only entry the auditor can query."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.api.app import create_app
from services.audit.read_logging import LoggedReadDep, LoggedReadRoute, logged_read
from services.auth import Role
from services.projections.projector import Projector
from services.settings import Settings
from tests.integration.audit_support import AuditApi, LeadWriter
from tests.integration.sent_statements import statements_sent

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[AuditApi]:
    api = await AuditApi.on(database_url)
    yield api
    await api.container.close()


async def _access_log(api: AuditApi, **params: Any) -> list[dict[str, Any]]:
    async with api.as_(Role.AUDITOR, "adr", sub="dirk@adr.nl") as auditor:
        response = await auditor.get("/v1/audit/access-log", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert page["count"] == len(page["results"])
    results: list[dict[str, Any]] = page["results"]
    return results


async def test_each_read_of_a_lead_is_logged_with_who_what_when_why_and_trace(api: AuditApi) -> None:
    lead = await LeadWriter(api.store).signal("2026-05-04T09:00:00Z")
    other = await LeadWriter(api.store).signal("2026-05-05T09:00:00Z", owner_org="liof")
    base = f"/v1/leads/{lead.lead_id}"
    async with api.as_(Role.TASKFORCE, "bom", sub="anna@bom.nl") as anna:
        assert (await anna.get(base, headers={"traceparent": TRACEPARENT})).status_code == 200
        assert (
            await anna.get(f"{base}/events", headers={"X-Correlation-ID": "case-review-7"})
        ).status_code == 200
        untraced = await anna.get(f"{base}/state", params={"as_of": "2026-05-05T00:00:00Z"})
        assert untraced.status_code == 200
    async with api.as_(Role.AUDITOR, "adr", sub="dirk@adr.nl") as auditor:
        assert (await auditor.get(f"{base}/export")).status_code == 200
    entries = await _access_log(api, lead_id=str(lead.lead_id))

    assert [(e["sub"], e["org"], e["role"], e["endpoint"], e["processing_activity"]) for e in entries] == [
        ("anna@bom.nl", "bom", "taskforce", "GET /v1/leads/{lead_id}", "casusbehandeling"),
        ("anna@bom.nl", "bom", "taskforce", "GET /v1/leads/{lead_id}/events", "casusbehandeling"),
        ("anna@bom.nl", "bom", "taskforce", "GET /v1/leads/{lead_id}/state", "casusbehandeling"),
        ("dirk@adr.nl", "adr", "auditor", "GET /v1/leads/{lead_id}/export", "verantwoording"),
    ]
    assert [e["trace_id"] for e in entries[:2]] == [TRACE_ID, "case-review-7"]
    # The caller sent none: the id the answer carries, which the request's log lines carry too.
    assert entries[2]["trace_id"] == untraced.headers["X-Correlation-ID"]
    assert len(entries[2]["trace_id"]) == 32
    assert all(e["lead_id"] == str(lead.lead_id) for e in entries)
    assert entries[0]["at"] <= entries[-1]["at"]
    assert await _access_log(api, lead_id=str(other.lead_id)) == []


async def test_a_list_logs_every_lead_it_shows(api: AuditApi) -> None:
    shown = [
        await LeadWriter(api.store).signal("2026-05-04T09:00:00Z", owner_org=org) for org in ("bom", "liof")
    ]
    await Projector(api.store.engine).run_once()
    async with api.as_(Role.TASKFORCE, "bom") as taskforce:
        assert (await taskforce.get("/v1/leads")).json()["count"] == 2
    entries = await _access_log(api)
    assert sorted(e["lead_id"] for e in entries) == sorted(str(lead.lead_id) for lead in shown)
    assert {e["endpoint"] for e in entries} == {"GET /v1/leads"}


async def test_a_refused_attempt_on_another_organisations_lead_is_logged_but_roles_without_access_are_not(
    api: AuditApi,
) -> None:
    lead = await LeadWriter(api.store).signal("2026-05-04T09:00:00Z")
    stranger, ministry = api.as_(Role.TASKFORCE, "liof"), api.as_(Role.MINISTRY, "ministerie-ez")
    async with stranger, ministry:
        assert (await stranger.get(f"/v1/leads/{lead.lead_id}/events")).status_code == 403
        assert (await ministry.get(f"/v1/leads/{lead.lead_id}")).status_code == 404  # may not know it exists
        assert (await stranger.get("/v1/audit/access-log")).status_code == 403
        assert (await ministry.get("/v1/audit/access-log")).status_code == 403
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        page = (await coordinator.get("/v1/audit/access-log", params={"lead_id": str(lead.lead_id)})).json()
    attempts = [(e["org"], e["endpoint"]) for e in page["results"]]
    assert attempts == [("liof", "GET /v1/leads/{lead_id}/events")]


async def test_access_log_is_append_only_in_the_database(api: AuditApi) -> None:
    lead = await LeadWriter(api.store).signal("2026-05-04T09:00:00Z")
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        await coordinator.get(f"/v1/leads/{lead.lead_id}")
    for statement in ("UPDATE access_log SET sub = 'nobody'", "DELETE FROM access_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with api.store.engine.begin() as connection:
                await connection.execute(text(statement))
    assert len(await _access_log(api)) == 1


async def test_a_read_that_cannot_be_logged_is_refused_not_served(api: AuditApi) -> None:
    lead = await LeadWriter(api.store).signal("2026-05-04T09:00:00Z")
    async with api.store.engine.begin() as connection:
        await connection.execute(text("DROP TABLE access_log"))
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        response = await coordinator.get(f"/v1/leads/{lead.lead_id}/events")
    assert response.status_code == 503
    assert "access log" in response.json()["detail"]
    assert "LeadSignalled" not in response.text


async def test_concurrent_reads_share_commits_and_every_one_is_logged(api: AuditApi) -> None:
    lead = await LeadWriter(api.store).signal("2026-05-04T09:00:00Z")
    statements = statements_sent(api.store.engine)
    async with api.as_(Role.COORDINATOR, "nfia", sub="carla@nfia.nl") as coordinator:
        responses = await asyncio.gather(*(coordinator.get(f"/v1/leads/{lead.lead_id}") for _ in range(20)))
    await asyncio.sleep(0)
    writes = [statement for statement in statements if statement.startswith("INSERT INTO access_log")]

    assert [response.status_code for response in responses] == [200] * 20
    entries = [entry for entry in await _access_log(api) if entry["sub"] == "carla@nfia.nl"]
    assert len(entries) == 20
    assert 1 <= len(writes) < 20  # the twenty entries went in fewer writes (each its own commit)


async def test_concurrent_reads_that_cannot_be_logged_are_all_refused(api: AuditApi) -> None:
    lead = await LeadWriter(api.store).signal("2026-05-04T09:00:00Z")
    async with api.store.engine.begin() as connection:
        await connection.execute(text("DROP TABLE access_log"))
    async with api.as_(Role.COORDINATOR, "nfia") as coordinator:
        responses = await asyncio.gather(*(coordinator.get(f"/v1/leads/{lead.lead_id}") for _ in range(8)))
    assert [response.status_code for response in responses] == [503] * 8


def _takes(dependant: Any, call: Any) -> bool:
    return any(sub.call is call or _takes(sub, call) for sub in dependant.dependencies)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also those of included routers (FastAPI keeps them under the router's entry)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def test_every_route_that_logs_reads_awaits_its_entries_before_answering() -> None:
    routes = list(_api_routes(create_app(Settings(_env_file=None)).routes))
    logging = [route for route in routes if _takes(route.dependant, logged_read)]

    assert {"/v1/leads", "/v1/leads/{lead_id}", "/v1/leads/{lead_id}/events"} <= {r.path for r in logging}
    assert [route.path for route in logging if not isinstance(route, LoggedReadRoute)] == []


async def test_a_logged_read_on_a_route_that_would_not_await_it_is_refused() -> None:
    app = FastAPI()

    @app.get("/unawaited")
    async def unawaited(read: LoggedReadDep) -> None:
        read.reads.record(uuid.uuid4())

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        with pytest.raises(RuntimeError, match="not a LoggedReadRoute"):
            await client.get("/unawaited", headers={"Authorization": "Bearer x"})
