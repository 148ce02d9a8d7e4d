"""Temporal never sees plaintext company data: the raw history, as the Temporal server holds it, names no
company — not in inputs, results or failure messages — and an operator decodes it only through the
codec endpoint, with an admin or auditor token."""

import base64
import binascii
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.auth import Role
from services.binaries import find_binary
from services.settings import Settings
from services.temporal import data_converter
from tests.fakes import RecordingNotifier
from tests.integration.conftest import Api

COMPANY = {"name": "Geheime Halfgeleider B.V.", "kvk_number": "55512345", "website": "https://geheim.example"}
LEAD = {"company": COMPANY, "owner_org": "bom", "home_region": "zuid", "summary": "fab of 12 MVA"}
SECRETS = ("Geheime Halfgeleider", "55512345", "geheim.example")


class FailingLoudly(RecordingNotifier):
    """A notifier whose failure message names the company, as a careless mail library might."""

    async def deliver(self, delivery: Any) -> list[str]:
        raise ConnectionError(f"relay refused mail about {COMPANY['name']}")


@pytest.fixture
def notifier() -> RecordingNotifier:
    return FailingLoudly()


@pytest.fixture(scope="module")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: skipping time must not also fire other tests' leftover timers."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings()),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    yield env
    await env.shutdown()


def texts_in(history: WorkflowHistory) -> str:
    """Everything the server holds: the history's JSON and every base64 field decoded."""
    raw = history.to_json()
    decoded = []
    for candidate in re.findall(r'"([A-Za-z0-9+/=]{8,})"', raw):
        try:
            decoded.append(base64.b64decode(candidate, validate=True).decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            continue
    return raw + "\n".join(decoded)


async def brokered_lead(api: Api, temporal_env: WorkflowEnvironment) -> tuple[str, WorkflowHistory]:
    async with api.as_(Role.TASKFORCE, "bom") as bom:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        await bom.post(f"/v1/leads/{lead_id}/demands", json={"kind": "energy", "grid_capacity_mva": 12})
        await bom.post(f"/v1/leads/{lead_id}/articulation/complete")
        request = {"partner_id": "tennet", "question": "12 MVA in 2027?", "due_date": "2031-01-01"}
        assert (await bom.post(f"/v1/leads/{lead_id}/partner-requests", json=request)).status_code == 201
    await temporal_env.sleep(timedelta(hours=2))  # the delivery's retries run out: its failure is recorded
    history = await temporal_env.client.get_workflow_handle(f"lead-{lead_id}").fetch_history()
    return lead_id, history


async def test_the_raw_history_names_no_company_not_even_in_failures(
    api: Api, temporal_env: WorkflowEnvironment
) -> None:
    _, history = await brokered_lead(api, temporal_env)
    held = texts_in(history)

    assert "binary/encrypted" in held and "encryption-key-id" in held
    assert "ACTIVITY_TASK_FAILED" in history.to_json()  # the failure is in the history, encoded
    for secret in SECRETS:
        assert secret not in held, secret
    # The same history decoded with the key does hold the company: the search above could find it.
    decoded = await temporal_env.client.data_converter.payload_codec.decode(  # type: ignore[union-attr]
        [history.events[0].workflow_execution_started_event_attributes.input.payloads[0]]
    )
    assert decoded[0].metadata["encoding"] == b"json/plain"


def _payloads_of(history: WorkflowHistory) -> list[dict[str, Any]]:
    """The update payloads of the history, in the remote codec protocol's JSON."""
    found = []
    for event in history.events:
        accepted = event.workflow_execution_update_accepted_event_attributes
        for payload in accepted.accepted_request.input.args.payloads:
            found.append(
                {
                    "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
                    "data": base64.b64encode(payload.data).decode(),
                }
            )
    return found


async def test_an_admin_or_auditor_decodes_a_history_through_the_codec_endpoint(
    api: Api, temporal_env: WorkflowEnvironment
) -> None:
    _, history = await brokered_lead(api, temporal_env)
    body = {"payloads": _payloads_of(history)[:1]}
    async with api.as_(Role.ADMIN, "beheer") as admin, api.as_(Role.TASKFORCE, "bom") as taskforce:
        decoded = await admin.post("/codec/decode", json=body, headers={"X-Namespace": "default"})
        refused = await taskforce.post("/codec/decode", json=body)
        malformed = await admin.post("/codec/decode", content=b"not json")
        round_trip = await admin.post("/codec/encode", json=decoded.json())
    anonymous = await httpx.AsyncClient(transport=api._transport, base_url="http://api").post(
        "/codec/decode", json=body
    )
    (plain,) = decoded.json()["payloads"]
    assert decoded.status_code == 200
    assert base64.b64decode(plain["metadata"]["encoding"]) == b"json/plain"
    assert COMPANY["name"] in base64.b64decode(plain["data"]).decode()
    assert (refused.status_code, anonymous.status_code, malformed.status_code) == (403, 401, 400)
    (encrypted,) = round_trip.json()["payloads"]
    assert COMPANY["name"] not in base64.b64decode(encrypted["data"]).decode("latin-1")


async def test_the_temporal_ui_origin_may_call_the_codec_and_no_other(api: Api) -> None:
    settings = api.settings.model_copy(update={"codec_cors_origins": ["http://localhost:8233"]})
    app = create_app(settings, api.app.state.container)
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-namespace"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        ui = await client.options("/codec/decode", headers={**preflight, "Origin": "http://localhost:8233"})
        other = await client.options("/codec/decode", headers={**preflight, "Origin": "https://evil.example"})
        api_route = await client.options(
            "/v1/leads", headers={**preflight, "Origin": "http://localhost:8233"}
        )
    assert ui.headers["access-control-allow-origin"] == "http://localhost:8233"
    assert ui.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in api_route.headers
    assert json.loads(json.dumps(dict(ui.headers)))  # headers are plain strings
