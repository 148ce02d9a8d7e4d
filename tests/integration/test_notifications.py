"""Delivery against a real local SMTP server (aiosmtpd) and a real local webhook receiver."""

import asyncio
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook

from events import model as ev
from events.demands import EnergySpec
from events.details import Company, LeadDetails
from events.reference import Region
from events.store import Actor, EventMetadata, NewEvent
from services.notifications.deliverer import Deliverer
from services.notifications.email import SmtpMailer
from services.notifications.webhooks import WebhookSender
from services.partners import PartnerRegistry, PartnerUpdate
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from tests.e2e.conftest import free_port
from workflows.payloads import DeliveryInput, workflow_id_for

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
COMPANY = "Stroomkracht Elektrolyse B.V."


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.append(message_from_bytes(raw, policy=policy.default))
        return "250 OK"


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    status = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.status = [], 204
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    server.shutdown()


@pytest.fixture
async def deliverer(
    engine: AsyncEngine, smtp: tuple[Inbox, int], receiver: str
) -> AsyncIterator[tuple[Deliverer, SqlEventStore]]:
    settings = Settings(smtp_port=smtp[1], coordinator_emails=["coordinator@nfia.example"])
    registry = PartnerRegistry(engine)
    partner = await registry.get("tennet")
    assert partner is not None
    fields = partner.model_dump(exclude={"partner_id"}) | {"webhook_url": receiver, "webhook_secret": SECRET}
    await registry.put("tennet", PartnerUpdate.model_validate(fields))
    store = SqlEventStore(engine)
    async with httpx.AsyncClient() as http:
        mailer, hooks = SmtpMailer(settings), WebhookSender(settings, http)
        yield Deliverer(settings, engine, store, registry, mailer, hooks), store
    await store.close()


async def _lead_with_request(store: SqlEventStore, *, disclosed: bool) -> tuple[uuid.UUID, uuid.UUID]:
    lead_id, demand_id, request_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    details = LeadDetails(company=Company(name=COMPANY), owner_org="nom", home_region=Region.NOORD)
    history: list[ev.DomainEvent] = [
        ev.LeadSignalled(lead_id=lead_id, code_name="Project Grutto 7", details=details),
        ev.DemandArticulated(demand_id=demand_id, spec=EnergySpec(grid_capacity_mva=80)),
        ev.ArticulationCompleted(demand_count=1),
        ev.PartnerRequestSent(
            request_id=request_id, partner_id="tennet", demand_ids=[demand_id],
            question="Can 80 MVA be connected by 2028?", due_date=date(2027, 2, 1),
        ),
    ]  # fmt: skip
    if disclosed:
        history.append(ev.IdentityDisclosed(to_org="tennet", reason="grid study"))
    metadata = EventMetadata(actor=Actor(sub="jan@nom.nl", org="nom", role="taskforce"))
    new = [
        NewEvent.from_domain(e, event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), metadata=metadata)
        for e in history
    ]
    await store.append(workflow_id_for(lead_id), 0, new)
    return lead_id, request_id


async def test_reminder_reaches_partner_by_mail_and_signed_cloudevent_once(
    deliverer: tuple[Deliverer, SqlEventStore], smtp: tuple[Inbox, int]
) -> None:
    notifier, store = deliverer
    lead_id, request_id = await _lead_with_request(store, disclosed=False)
    delivery = DeliveryInput(
        delivery_id=f"lead-{lead_id}/reminder/1", purpose="reminder", lead_id=lead_id,
        request_id=request_id, reminder_number=1,
    )  # fmt: skip
    assert await notifier.deliver(delivery) == ["email", "webhook"]
    assert await notifier.deliver(delivery) == ["email", "webhook"]  # a retry sends nothing again

    inbox = smtp[0]
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    body = str(mail.get_payload(decode=True), "utf-8")
    assert mail["To"] == "contact@tennet.example"
    assert mail["Subject"] == "Herinnering 1: verzoek over Project Grutto 7"
    assert "Can 80 MVA" in body and "energie" in body
    assert COMPANY not in mail.as_string()

    assert len(Receiver.received) == 1
    headers, raw = Receiver.received[0]
    Webhook(SECRET).verify(raw, headers)  # raises when the signature is wrong
    event = json.loads(raw)
    assert event["specversion"] == "1.0"
    assert event["type"] == "nl.groeiruimte.partnerverzoek.herinnering"
    assert event["source"] == "urn:nld:groeiruimte:development"
    assert event["dataref"].endswith(f"/v1/partner-requests/{request_id}")
    assert COMPANY not in raw.decode()


async def test_company_is_named_only_to_a_partner_it_was_disclosed_to(
    deliverer: tuple[Deliverer, SqlEventStore], smtp: tuple[Inbox, int]
) -> None:
    notifier, store = deliverer
    lead_id, request_id = await _lead_with_request(store, disclosed=True)
    delivery = DeliveryInput(delivery_id="d-req", purpose="request", lead_id=lead_id, request_id=request_id)
    await notifier.deliver(delivery)
    assert COMPANY in smtp[0].messages[0]["Subject"]


async def test_escalation_goes_to_the_coordinator(
    deliverer: tuple[Deliverer, SqlEventStore], smtp: tuple[Inbox, int]
) -> None:
    notifier, store = deliverer
    lead_id, request_id = await _lead_with_request(store, disclosed=False)
    delivery = DeliveryInput(
        delivery_id="d-esc", purpose="escalation", lead_id=lead_id, request_id=request_id
    )
    assert await notifier.deliver(delivery) == ["email"]
    assert smtp[0].messages[0]["To"] == "coordinator@nfia.example"
    assert smtp[0].messages[0]["Subject"].startswith("Escalatie: geen antwoord van tennet")
    assert Receiver.received == []


async def test_failing_webhook_raises_for_a_retry_and_mail_is_not_resent(
    deliverer: tuple[Deliverer, SqlEventStore], smtp: tuple[Inbox, int]
) -> None:
    notifier, store = deliverer
    lead_id, request_id = await _lead_with_request(store, disclosed=False)
    Receiver.status = 500
    delivery = DeliveryInput(delivery_id="d-fail", purpose="request", lead_id=lead_id, request_id=request_id)
    failures = {"channel": "webhook", "purpose": "request"}
    before = REGISTRY.get_sample_value("groeiruimte_send_failures_total", failures) or 0
    with pytest.raises(Exception, match="500"):
        await notifier.deliver(delivery)
    assert REGISTRY.get_sample_value("groeiruimte_send_failures_total", failures) == before + 1
    Receiver.status = 204
    await notifier.deliver(delivery)
    assert len(smtp[0].messages) == 1
    assert len(Receiver.received) == 2
    await asyncio.sleep(0)
