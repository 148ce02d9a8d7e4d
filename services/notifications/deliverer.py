"""The Notifier the worker uses: finds the recipients, composes, sends, and never sends twice."""

from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.exceptions import ApplicationError

from events.state import LeadState, PartnerRequest
from events.store import EventStore
from services.lead_reads import load_lead
from services.notifications.email import SmtpMailer
from services.notifications.messages import compose
from services.notifications.webhooks import WebhookSender, cloud_event
from services.partners import Partner, PartnerRegistry
from services.persistence.tables import notification_deliveries
from services.settings import Settings
from workflows.payloads import DeliveryInput

# Each failed attempt (the activity retries): a webhook receiver or mail server that keeps failing shows here
# long before the delivery finally fails (groeiruimte_notifications_total{outcome="failed"}).
SEND_FAILURES = Counter(
    "groeiruimte_send_failures_total", "Failed attempts to send a notification", ["channel", "purpose"]
)


@dataclass(frozen=True)
class Target:
    channel: str  # "email" or "webhook"
    recipient: str  # an address or a URL
    org: str | None  # the recipient organisation (None: the coordinator)
    secret: str | None = None


class Deliverer:
    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        store: EventStore,
        registry: PartnerRegistry,
        mailer: SmtpMailer,
        webhooks: WebhookSender,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._store = store
        self._registry = registry
        self._mailer = mailer
        self._webhooks = webhooks

    async def deliver(self, delivery: DeliveryInput) -> list[str]:
        """Send to every target not yet sent to for this delivery id; returns the channels used."""
        state = await load_lead(self._store, delivery.lead_id)
        if state is None:
            raise ApplicationError("the lead does not exist", non_retryable=True)
        request = state.partner_request(delivery.request_id) if delivery.request_id else None
        targets = await self._targets(delivery, state, request)
        if not targets:
            raise ApplicationError("no e-mail address or webhook to deliver to", non_retryable=True)
        for target in targets:
            if not await self._was_sent(delivery.delivery_id, target):
                try:
                    await self._send(delivery, state, request, target)
                except Exception:
                    SEND_FAILURES.labels(target.channel, delivery.purpose).inc()
                    raise
                await self._mark_sent(delivery.delivery_id, target)
        return sorted({target.channel for target in targets})

    async def _targets(
        self, delivery: DeliveryInput, state: LeadState, request: PartnerRequest | None
    ) -> list[Target]:
        if delivery.purpose == "escalation":
            return [Target("email", address, None) for address in self._settings.coordinator_emails]
        org = request.partner_id if request is not None else state.details.owner_org
        partner = await self._registry.get(org)
        if partner is None or not partner.active:
            return []
        return _partner_targets(partner, with_webhook=delivery.purpose in ("request", "reminder"))

    async def _send(
        self, delivery: DeliveryInput, state: LeadState, request: PartnerRequest | None, target: Target
    ) -> None:
        if target.channel == "email":
            message = compose(delivery, state, request, target.org, self._settings.api_url)
            await self._mailer.send(target.recipient, message, delivery.delivery_id)
            return
        assert request is not None and target.secret is not None
        body = cloud_event(
            self._settings,
            event_id=delivery.delivery_id,
            purpose=delivery.purpose,
            subject=str(request.request_id),
            dataref=f"{self._settings.api_url}/v1/partner-requests/{request.request_id}",
            data={"request_id": str(request.request_id), "code_name": state.code_name,
                  "due_date": request.due_date.isoformat(), "reminder_number": delivery.reminder_number},
        )  # fmt: skip
        await self._webhooks.post(target.recipient, target.secret, delivery.delivery_id, body)

    async def _was_sent(self, delivery_id: str, target: Target) -> bool:
        d = notification_deliveries.c
        statement = select(d.delivery_id).where(
            d.delivery_id == delivery_id, d.channel == target.channel, d.recipient == target.recipient
        )
        async with self._engine.connect() as connection:
            return (await connection.execute(statement)).first() is not None

    async def _mark_sent(self, delivery_id: str, target: Target) -> None:
        row = {"delivery_id": delivery_id, "channel": target.channel, "recipient": target.recipient}
        try:
            async with self._engine.begin() as connection:
                await connection.execute(
                    notification_deliveries.insert().values(**row, sent_at=datetime.now(UTC))
                )
        except IntegrityError:
            return  # a concurrent attempt recorded it first


def _partner_targets(partner: Partner, *, with_webhook: bool) -> list[Target]:
    targets = [Target("email", address, partner.partner_id) for address in partner.emails]
    if with_webhook and partner.has_webhook:
        assert partner.webhook_url is not None
        targets.append(Target("webhook", partner.webhook_url, partner.partner_id, partner.webhook_secret))
    return targets
