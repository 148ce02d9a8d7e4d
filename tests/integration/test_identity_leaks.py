"""The NDA holds everywhere: a lead is driven through brokering on the real API with a real worker that
mails through a real SMTP server (aiosmtpd) and posts real webhooks; then every GET route of the app is
read by every kind of caller, and every response body, every mail and every webhook is searched for the
company's name, KvK number and website. Only those who may see the identity — the owning organisation,
the coordinator, auditors and organisations it was disclosed to — may ever find them."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.auth import Role
from services.binaries import find_binary
from services.container import Container, build_deliverer
from services.lead_commands import LeadCommandService
from services.partners import PartnerRegistry, PartnerUpdate
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from services.temporal import data_converter
from tests.integration.conftest import Api
from tests.integration.test_audit_write_routes import iter_routes
from tests.integration.test_notifications import SECRET, Inbox, Receiver, receiver, smtp  # noqa: F401
from workflows.worker import build_worker

COMPANY = {"name": "Zwijgzaam Kwantum B.V.", "kvk_number": "31415926", "website": "https://zwijgzaam.example"}
CONTACT = {"name": "Marieke Stilzwijger", "email": "marieke@zwijgzaam.example", "phone": "+31 6 1234 5678"}
SECRETS = ("Zwijgzaam", "31415926", "zwijgzaam.example", "Stilzwijger", "1234 5678")
LEAD = {"company": COMPANY, "owner_org": "bom", "home_region": "zuid", "domains": ["quantum"]}

MAY_SEE = {
    "taskforce-own": (Role.TASKFORCE, "bom"),
    "taskforce-disclosed": (Role.TASKFORCE, "liof"),
    "coordinator": (Role.COORDINATOR, "nfia"),
    "auditor": (Role.AUDITOR, "adr"),
    "partner-disclosed": (Role.PARTNER, "tennet"),
}
MAY_NOT_SEE = {
    "taskforce-case-team": (Role.TASKFORCE, "oost-nl"),
    "taskforce-other": (Role.TASKFORCE, "nom"),
    "partner-addressed": (Role.PARTNER, "provincie-gelderland"),
    "partner-other": (Role.PARTNER, "provincie-utrecht"),
    "ministry": (Role.MINISTRY, "ministerie-ez"),
    "admin": (Role.ADMIN, "beheer"),
}


@pytest.fixture(scope="module")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """A server of its own: skipping time must not also fire other tests' leftover timers."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings()),
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def stack(
    temporal_env: WorkflowEnvironment,
    store: SqlEventStore,
    smtp: tuple[Inbox, int],  # noqa: F811
    receiver: str,  # noqa: F811
) -> AsyncIterator[Api]:
    """The API and a worker delivering for real (SMTP and webhooks), on one task queue."""
    queue = f"leaks-{uuid.uuid4()}"
    settings = Settings(
        temporal_task_queue=queue, command_timeout_seconds=20, rate_limit_enabled=False, smtp_port=smtp[1]
    )
    registry = PartnerRegistry(store.engine)
    tennet = await registry.get("tennet")
    assert tennet is not None
    webhook = {"webhook_url": receiver, "webhook_secret": SECRET}
    await registry.put(
        "tennet", PartnerUpdate.model_validate(tennet.model_dump(exclude={"partner_id"}) | webhook)
    )
    commands = LeadCommandService(temporal_env.client, store, settings)
    container = Container(settings, store.engine, store, temporal_env.client, commands, registry)
    async with httpx.AsyncClient() as http:
        deliverer = build_deliverer(settings, container, http)
        async with build_worker(temporal_env.client, queue, store, deliverer):
            yield Api(httpx.ASGITransport(app=create_app(settings, container)), settings, store)


async def _journey(api: Api, temporal_env: WorkflowEnvironment) -> dict[str, str]:
    """Signal, articulate, team up, disclose to two organisations, ask two partners, let reminders run."""
    async with api.as_(Role.TASKFORCE, "bom") as bom, api.as_(Role.TASKFORCE, "oost-nl") as team:
        lead_id = (await bom.post("/v1/leads", json=LEAD)).json()["lead_id"]
        base = f"/v1/leads/{lead_id}"
        demand_id = (
            await bom.post(f"{base}/demands", json={"kind": "energy", "grid_capacity_mva": 9})
        ).json()["demand_id"]
        for path, body in [
            ("contacts", CONTACT),
            ("case-team/oost-nl", {"reason": "receiving region"}),
            ("articulation/complete", {}),
            ("identity-disclosures", {"to_org": "tennet", "reason": "grid study"}),
            ("identity-disclosures", {"to_org": "liof", "reason": "second opinion"}),
        ]:
            assert (await bom.post(f"{base}/{path}", json=body)).status_code < 300, path
        due = (await temporal_env.get_current_time()).date() + timedelta(days=1)
        request_ids = []
        for partner in ("provincie-gelderland", "tennet"):
            body = {"partner_id": partner, "question": "Room for a cryo lab?", "due_date": due.isoformat()}
            request_ids.append((await team.post(f"{base}/partner-requests", json=body)).json()["request_id"])
        await team.post(f"{base}/notes", json={"text": "visited the site with the receiving ROM"})
    await temporal_env.sleep(timedelta(days=30))  # reminders, then escalations to the coordinator
    await api.project()
    return {"lead_id": lead_id, "demand_id": demand_id, "request_id": request_ids[0], "partner_id": "tennet"}


def _get_paths(api: Api, ids: dict[str, str]) -> list[str]:
    """Every GET route of the app (API, reports and web UI pages) with its path parameters filled."""
    values = {**ids, "period": "2026-H1", "org": "oost-nl", "step": "notitie"}
    paths = []
    for context in iter_routes(api.app):
        if isinstance(getattr(context, "route", context), APIRoute) and "GET" in context.methods:
            try:
                paths.append(context.path.format(**values))
            except KeyError:
                continue  # a path parameter this journey has no value for
    return sorted(set(paths))


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


async def _read_everything(api: Api, role: Role, org: str, paths: list[str]) -> dict[str, str]:
    """Every GET answer's body, through the bearer token and through the web UI's session cookie."""
    bodies = {}
    async with api.as_(role, org) as client:
        client.cookies.set("groeiruimte_sessie", client.headers["Authorization"].split()[1])
        for path in paths:
            bodies[path] = (await client.get(path)).text
        note = await client.post(f"{paths_lead(paths)}/notes", json={"text": "attempt"})
        bodies["POST notes"] = note.text
    return bodies


def paths_lead(paths: list[str]) -> str:
    return next(path for path in paths if path.startswith("/v1/leads/") and path.count("/") == 3)


async def test_no_response_mail_or_webhook_names_the_company_to_anyone_who_may_not_see_it(
    stack: Api,
    temporal_env: WorkflowEnvironment,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    ids = await _journey(stack, temporal_env)
    paths = _get_paths(stack, ids)
    leaks: dict[str, Any] = {}
    for who, (role, org) in MAY_NOT_SEE.items():
        for path, body in (await _read_everything(stack, role, org, paths)).items():
            if _leaks(body):
                leaks[f"{who} {path}"] = _leaks(body)
    seen = {who: await _read_everything(stack, role, org, paths) for who, (role, org) in MAY_SEE.items()}

    mails = smtp[0].messages
    to_gelderland = [mail for mail in mails if "gelderland" in mail["To"]]
    for mail in mails:
        if "tennet" not in mail["To"] and _leaks(mail.as_string()):
            leaks[f"mail to {mail['To']}: {mail['Subject']}"] = _leaks(mail.as_string())
    for _, raw in Receiver.received:
        if _leaks(raw.decode()):
            leaks["webhook"] = _leaks(raw.decode())

    assert leaks == {}
    # The search finds what it looks for: those who may see the identity do, and mail did go out.
    for who in MAY_SEE:
        assert any(_leaks(body) for body in seen[who].values()), who
    assert len(to_gelderland) >= 2 and Receiver.received
    assert any(_leaks(mail.as_string()) for mail in mails if "tennet" in mail["To"])
