"""One lead from signal to close over HTTP, against the real processes started by `groeiruimte run`."""

import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from services.auth import Role
from services.persistence.engine import create_engine
from tests.e2e.conftest import Stack, stop_stack

pytestmark = pytest.mark.e2e

LEAD = {
    "company": {
        "name": "Lichtwerk Fotonica B.V.",
        "kvk_number": "12345678",
        "website": "https://lichtwerk.example",
    },
    "owner_org": "bom",
    "home_region": "zuid",
    "province": "noord-brabant",
    "municipality": "Eindhoven",
    "domains": ["photonics", "semiconductors"],
    "company_stage": "startup",
    "life_phase": 3,
    "summary": "Integrated photonics chips; needs a cleanroom fab within three years.",
    "needed_by": "2028-06-30",
    "investment_at_stake_eur": 40_000_000,
    "jobs_at_stake": 150,
    "foreign_alternative": "DE",
}
DEMANDS = [
    {"kind": "space", "floor_area_m2": 6000, "cleanroom_iso_class": 5, "environmental_category": "4.2"},
    {"kind": "capital", "capex_eur": 30_000_000, "facility_kind": "cleanroom"},
    {"kind": "talent", "fte_mbo": 40, "fte_hbo": 60, "fte_wo": 50},
    {"kind": "housing_accessibility", "housing_units": 80},
    {"kind": "energy", "grid_capacity_mva": 12, "current_grid_operator": "enexis"},
    {"kind": "financing", "amount_eur": 15_000_000, "instruments": ["invest_nl", "innovatiekrediet"]},
]


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 15) -> Any:
    """Poll a read-model check until it returns something truthy (projections are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.2)


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["API-Version"]
    body: dict[str, Any] = response.json()
    return body


async def test_a_lead_travels_from_signal_to_close(stack: Stack) -> None:
    async with stack.client(Role.TASKFORCE, "bom", "anna@bom.nl") as bom:
        lead = await _ok(
            await bom.post("/v1/leads", json=LEAD, headers={"X-Audit-Toelichting": "intake"}), 201
        )
        lead_id = lead["lead_id"]
        assert lead["stage"] == "signalled" and lead["code_name"].startswith("Project ")
        demand_ids = []
        for demand in DEMANDS:
            answer = await _ok(await bom.post(f"/v1/leads/{lead_id}/demands", json=demand), 201)
            demand_ids.append(answer["demand_id"])
        assert answer["stage"] == "articulating" and len(answer["demands"]) == 6
        await _ok(await bom.post(f"/v1/leads/{lead_id}/articulation/complete"))
        option = await _ok(
            await bom.post(
                f"/v1/leads/{lead_id}/options",
                json={
                    "region": "oost",
                    "province": "gelderland",
                    "municipality": "Nijmegen",
                    "site": "Novio Tech Campus",
                    "demand_ids": demand_ids[:2],
                },
            ),
            201,
        )
        request = await _ok(
            await bom.post(
                f"/v1/leads/{lead_id}/partner-requests",
                json={
                    "partner_id": "provincie-gelderland",
                    "demand_ids": demand_ids[:1],
                    "question": "Is there 6000 m2 with cleanroom potential?",
                    "due_date": "2027-01-15",
                },
            ),
            201,
        )
        await _answer_as_partner(stack, request["request_id"])
        await _check_partner_was_mailed(stack, "contact@provincie-gelderland.example")
        await _ok(await bom.post(f"/v1/leads/{lead_id}/company-stage", json={"company_stage": "scale_up"}))
        await _ok(await bom.post(f"/v1/leads/{lead_id}/decision", json={"option_id": option["option_id"]}))
        held = await _ok(await bom.post(f"/v1/leads/{lead_id}/hold", json={"reason": "awaiting board"}))
        assert held["stage"] == "on_hold"
        resumed = await _ok(await bom.post(f"/v1/leads/{lead_id}/resume"))
        assert resumed["stage"] == "brokering"
        await _ok(await bom.post(f"/v1/leads/{lead_id}/notes", json={"text": "Board said yes."}), 201)
        outcome = {
            "code": "realised_other_region",
            "region": "oost",
            "province": "gelderland",
            "municipality": "Nijmegen",
            "investment_eur": 25_000_000,
            "jobs": 120,
        }
        decided = await _ok(await bom.post(f"/v1/leads/{lead_id}/outcome", json=outcome))
        assert decided["stage"] == "decided"
        closed = await _ok(await bom.post(f"/v1/leads/{lead_id}/close", json={"reason": "done"}))
        assert closed["stage"] == "closed"

        current = await _ok(await bom.get(f"/v1/leads/{lead_id}"))
        assert current["stage"] == "closed" and current["outcome"]["investment_eur"] == 25_000_000
        history = await _ok_list(await bom.get(f"/v1/leads/{lead_id}/events"))
        assert [event["type"] for event in history] == [
            "LeadSignalled",
            *["DemandArticulated"] * 6,
            "ArticulationCompleted",
            "LocationOptionProposed",
            "PartnerRequestSent",
            "PartnerResponded",
            "CompanyStageChanged",
            "CompanyDecisionRecorded",
            "LeadPutOnHold",
            "LeadResumed",
            "NoteAdded",
            "OutcomeRecorded",
            "LeadClosed",
        ]
        assert [event["stream_version"] for event in history] == list(range(1, 19))
        assert history[0]["metadata"]["reason"] == "intake"
        actors = {(e["metadata"]["actor"]["sub"], e["metadata"]["actor"]["role"]) for e in history}
        assert actors == {("anna@bom.nl", "taskforce"), ("partner@provincie-gelderland", "partner")}
        assert all(event["recorded_at"].endswith("Z") for event in history)
        await _check_read_models(stack, bom, lead_id)
    await _check_events_cannot_be_updated(stack.database_url)


async def _ok_list(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def _answer_as_partner(stack: Stack, request_id: str) -> None:
    async with stack.client(Role.PARTNER, "provincie-gelderland") as partner:

        async def inbox() -> list[dict[str, Any]]:
            return [
                r for r in (await partner.get("/v1/partner-requests")).json() if r["request_id"] == request_id
            ]

        visible = await eventually(inbox)
        assert visible and visible[0]["code_name"].startswith("Project ")
        assert "Lichtwerk" not in str(visible)
        answer = {"answer": "offer", "details": {"site": "Novio Tech Campus", "floor_area_m2": 6500}}
        await _ok(await partner.post(f"/v1/partner-requests/{request_id}/response", json=answer))
        again = await partner.post(f"/v1/partner-requests/{request_id}/response", json=answer)
        assert again.status_code == 409
    async with stack.client(Role.PARTNER, "provincie-limburg") as other_partner:
        assert (await other_partner.get("/v1/partner-requests")).json() == []


async def _check_partner_was_mailed(stack: Stack, address: str) -> None:
    """`make run`'s local SMTP server keeps what it receives under var/mail/."""

    async def mails() -> list[str]:
        return (
            [path.read_text() for path in stack.mail_folder.glob("*.eml")]
            if stack.mail_folder.exists()
            else []
        )

    received = [mail for mail in await eventually(mails) if address in mail]
    assert received and "Nieuw verzoek van de taskforce: Project " in received[0]
    assert "Lichtwerk" not in received[0]


async def _check_read_models(stack: Stack, bom: httpx.AsyncClient, lead_id: str) -> None:
    async def listed() -> dict[str, Any] | None:
        page = (
            await bom.get("/v1/leads", params={"stage": "closed", "region": "zuid", "domain": "photonics"})
        ).json()
        return next((row for row in page["results"] if row["lead_id"] == lead_id), None)

    row = await eventually(listed)
    assert row is not None and row["owner_org"] == "bom"
    async with stack.client(Role.MINISTRY, "ministerie-ez") as ministry:
        impact = await _ok(await ministry.get("/v1/monitoring/impact"))
        assert (await ministry.get(f"/v1/leads/{lead_id}")).status_code == 404  # may not know it exists
    figures = impact["figures"]
    assert figures["leads_in_portfolio"]["value"] >= 1
    assert figures["case_approaches_started"]["value"] >= 1
    assert figures["realised_other_region"]["value"] >= 1
    assert figures["new_scale_ups"]["value"] >= 1
    assert figures["retained_investment_eur"]["committed"] >= 25_000_000
    assert figures["leads_in_portfolio"]["target"] == 40


async def _check_events_cannot_be_updated(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(DBAPIError, match="immutable"):
            async with engine.begin() as connection:
                await connection.execute(sa.text("UPDATE events SET type = 'Tampered'"))
    finally:
        await engine.dispose()


async def test_refusals_are_clear_problems_and_change_nothing(stack: Stack) -> None:
    async with stack.client(Role.TASKFORCE, "bom") as bom, stack.client(Role.TASKFORCE, "liof") as liof:
        lead = await _ok(await bom.post("/v1/leads", json=LEAD), 201)
        lead_id = lead["lead_id"]
        conflict = await bom.post(f"/v1/leads/{lead_id}/articulation/complete")
        assert conflict.status_code == 409 and conflict.json()["stage"] == "signalled"
        assert conflict.headers["content-type"].startswith("application/problem+json")
        invalid = await bom.post(f"/v1/leads/{lead_id}/demands", json={"kind": "space", "floor_area_m2": -5})
        assert invalid.status_code == 422
        assert invalid.json()["invalidParams"][0]["name"].endswith("floor_area_m2")
        assert (await liof.post(f"/v1/leads/{lead_id}/notes", json={"text": "x"})).status_code == 403
        brief = await _ok(await liof.get(f"/v1/leads/{lead_id}"))
        assert "company" not in brief and brief["code_name"] == lead["code_name"]
        assert (await httpx.AsyncClient().get(f"{stack.api_url}/v1/leads")).status_code == 401
        events = await _ok_list(await bom.get(f"/v1/leads/{lead_id}/events"))
        assert len(events) == 1


async def test_repeated_request_with_one_idempotency_key_writes_once(stack: Stack) -> None:
    async with stack.client(Role.TASKFORCE, "bom") as bom:
        headers = {"Idempotency-Key": "signal-kraanvogel-1"}
        first = await _ok(await bom.post("/v1/leads", json=LEAD, headers=headers), 201)
        second = await _ok(await bom.post("/v1/leads", json=LEAD, headers=headers), 201)
        assert first == second
        note_headers = {"Idempotency-Key": "note-1"}
        lead_id = first["lead_id"]
        one = await _ok(
            await bom.post(f"/v1/leads/{lead_id}/notes", json={"text": "a"}, headers=note_headers), 201
        )
        two = await _ok(
            await bom.post(f"/v1/leads/{lead_id}/notes", json={"text": "a"}, headers=note_headers), 201
        )
        assert one == two
        events = await _ok_list(await bom.get(f"/v1/leads/{lead_id}/events"))
        assert [e["type"] for e in events] == ["LeadSignalled", "NoteAdded"]


async def test_auditor_reads_but_cannot_write(stack: Stack) -> None:
    async with stack.client(Role.TASKFORCE, "bom") as bom, stack.client(Role.AUDITOR, "adr") as auditor:
        lead_id = (await _ok(await bom.post("/v1/leads", json=LEAD), 201))["lead_id"]
        assert (await auditor.get(f"/v1/leads/{lead_id}/events")).status_code == 200
        assert (await auditor.post(f"/v1/leads/{lead_id}/notes", json={"text": "x"})).status_code == 403


async def _projector_caught_up(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            head = (await connection.execute(sa.text("SELECT last_position FROM log_head"))).scalar_one()
            checkpoint = (
                await connection.execute(sa.text("SELECT position FROM projection_checkpoints"))
            ).scalar_one()
    finally:
        await engine.dispose()
    return bool(head == checkpoint)


async def _read_models(client: httpx.AsyncClient) -> tuple[Any, Any, Any]:
    leads = (await client.get("/v1/leads", params={"limit": 100})).json()
    impact = (await client.get("/v1/monitoring/impact", params={"as_of": "2027-01-01T00:00:00Z"})).json()
    inbox = (await client.get("/v1/partner-requests")).json()
    return leads, impact, inbox


async def test_projections_rebuild_from_the_cli_gives_identical_read_models(stack: Stack) -> None:
    assert await eventually(lambda: _projector_caught_up(stack.database_url))
    async with stack.client(Role.COORDINATOR, "nfia") as coordinator:
        before = await _read_models(coordinator)
        rebuild = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", "projections", "rebuild",
            env={**os.environ, "GROEIRUIMTE_DATABASE_URL": stack.database_url},
            stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        output, _ = await rebuild.communicate()
        assert rebuild.returncode == 0
        assert b"rebuilt read models from" in output
        assert await _read_models(coordinator) == before
    assert before[0]["count"] >= 3


async def test_the_logs_of_the_run_hold_no_token_and_no_secret(stack: Stack) -> None:
    """Every process logs through the masking formatter, uvicorn's access log included."""
    token = stack.token(Role.COORDINATOR, "nfia", "log-check@nfia.nl")
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as anonymous:
        in_url = await anonymous.get("/v1/leads", params={"access_token": token})
        forged = await anonymous.get("/v1/leads", headers={"Authorization": f"Bearer {token}x"})
        used = await anonymous.get("/v1/leads", headers={"Authorization": f"Bearer {token}"})
    assert (in_url.status_code, forged.status_code, used.status_code) == (400, 401, 200)
    await asyncio.sleep(1)  # the access log line is written after the answer
    log = stack.log_path.read_text(errors="replace")
    settings = stack.settings
    secrets = [
        token,
        settings.jwt_secret,
        *(key.get_secret_value() for key in settings.payload_keys.values()),
    ]
    assert [secret[:24] for secret in secrets if secret in log] == []
    assert "access_token=[redacted]" in log  # the refused request was logged, masked


def _listening(url: str) -> bool:
    parsed = urlparse(url)
    with socket.socket() as probe:
        return probe.connect_ex((parsed.hostname or "127.0.0.1", parsed.port or 80)) == 0


async def test_the_temporal_ui_decodes_histories_through_the_apis_codec(stack: Stack) -> None:
    # `make run` points the dev server's UI at the codec; that UI has no sign-in, so in development
    # (only) its requests need no token, and CORS lets its origin call the API.
    async with httpx.AsyncClient(timeout=10) as browser:
        ui_settings = (await browser.get(f"{stack.temporal_ui_url}/api/v1/settings")).json()
        origin = {"Origin": stack.temporal_ui_url}
        decoded = await browser.post(f"{stack.api_url}/codec/decode", json={"payloads": []}, headers=origin)
        stranger = await browser.post(
            f"{stack.api_url}/codec/decode", json={"payloads": []}, headers={"Origin": "http://evil.example"}
        )
    assert ui_settings["Codec"]["Endpoint"] == f"{stack.api_url}/codec"
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-origin"] == stack.temporal_ui_url
    assert "access-control-allow-origin" not in stranger.headers  # a browser elsewhere cannot read it


def test_ctrl_c_stops_every_process(stack: Stack) -> None:
    assert stop_stack(stack) == 0
    assert not _listening(stack.api_url)
    assert not _listening(stack.temporal_url)
