"""Chain verification over HTTP and the CLI finds what an administrator with database rights could do:
triggers disabled (PostgreSQL) or dropped (SQLite), then a value changed or a row deleted."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from typer.testing import CliRunner

from events import commands as cmd
from services.auth import Role
from services.cli_audit import audit_app
from tests.integration.audit_support import AuditApi, LeadWriter, change_data, delete_event


@pytest.fixture
async def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AuditApi]:
    monkeypatch.setenv("GROEIRUIMTE_DATABASE_URL", database_url)
    api = await AuditApi.on(database_url)
    yield api
    await api.container.close()


async def _two_leads(api: AuditApi) -> tuple[LeadWriter, LeadWriter]:
    """Interleaved in the log: A at positions 1, 3, 4, 6 and B at 2, 5."""
    a = await LeadWriter(api.store).signal("2026-02-01T09:00:00Z")
    b = await LeadWriter(api.store).signal("2026-02-02T09:00:00Z", owner_org="liof")
    await a.start_case("2026-02-10T09:00:00Z")
    await b.do(cmd.AddNote(note_id=uuid.uuid4(), text="first call"), "2026-02-11T09:00:00Z")
    await a.do(cmd.AddNote(note_id=uuid.uuid4(), text="site visit"), "2026-02-12T09:00:00Z")
    return a, b


async def _verification(api: AuditApi, lead: LeadWriter | None = None) -> dict[str, Any]:
    params = {"lead_id": str(lead.lead_id)} if lead else {}
    async with api.as_(Role.AUDITOR, "adr") as auditor:
        response = await auditor.get("/v1/audit/verification", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(audit_app, list(args))
    return result.exit_code, result.output


async def test_intact_log_verifies_whole_and_per_lead(api: AuditApi) -> None:
    a, b = await _two_leads(api)
    whole, of_a, of_b = await _verification(api), await _verification(api, a), await _verification(api, b)
    assert (whole["ok"], whole["verified"], whole["head_position"]) == (True, 6, 6)
    assert (of_a["ok"], of_a["verified"], of_a["scope"]) == (True, 4, a.stream_id)
    assert (of_b["ok"], of_b["verified"]) == (True, 2)
    assert whole["head_hash"] == of_a["head_hash"] == (await api.store.read_all())[-1].hash
    assert await asyncio.to_thread(_cli, "verify") == (0, _ok_line(6, "log", whole["head_hash"]))
    code, output = await asyncio.to_thread(_cli, "verify", "--lead", str(a.lead_id))
    assert code == 0 and output.startswith(f"OK: 4 events of {a.stream_id} verified")


def _ok_line(count: int, scope: str, head_hash: str) -> str:
    return f"OK: {count} events of {scope} verified; log head {count} has hash {head_hash}\n"


# (tampering, whole log: first broken position and problem, lead A's and lead B's first broken position)
TAMPERING = {
    "a value changed": (3, "hash does not match", 3, None),
    "a row deleted": (5, "events are missing", 4, 4),
    "the last row deleted": (6, "does not match the log head", 6, 6),
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
async def test_verification_finds_tampering_by_a_database_administrator(
    api: AuditApi, tampering: str
) -> None:
    a, b = await _two_leads(api)
    if tampering == "a value changed":
        demand = (await api.store.read_all())[2]
        spec = {**demand.data["spec"], "floor_area_m2": 400}
        await change_data(api.store.engine, 3, {**demand.data, "spec": spec})
    else:
        await delete_event(api.store.engine, 4 if tampering == "a row deleted" else 6)
    whole_at, problem, a_at, b_at = TAMPERING[tampering]

    whole, of_a, of_b = await _verification(api), await _verification(api, a), await _verification(api, b)
    assert (whole["ok"], whole["first_broken_position"]) == (False, whole_at)
    assert problem in whole["problem"]
    assert (of_a["ok"], of_a["first_broken_position"]) == (False, a_at)
    assert (of_b["ok"], of_b["first_broken_position"]) == (b_at is None, b_at)
    code, output = await asyncio.to_thread(_cli, "verify")
    assert code == 1 and f"BROKEN at position {whole_at}: " in output
    code, output = await asyncio.to_thread(_cli, "verify", "--lead", str(a.lead_id))
    assert code == 1 and f"BROKEN at position {a_at}: " in output


async def test_only_auditors_and_the_coordinator_verify(api: AuditApi) -> None:
    async with api.as_(Role.TASKFORCE, "bom") as taskforce, api.as_(Role.COORDINATOR, "nfia") as coordinator:
        assert (await taskforce.get("/v1/audit/verification")).status_code == 403
        assert (await coordinator.get("/v1/audit/verification")).status_code == 200
        unknown = await coordinator.get("/v1/audit/verification", params={"lead_id": str(uuid.uuid4())})
    assert unknown.status_code == 404
