"""Webhooks: CloudEvents 1.0 structured JSON (NL GOV profile), signed per Standard Webhooks."""

from datetime import UTC, datetime
from typing import Any

import httpx
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks import Webhook

from services.settings import Settings

EVENT_TYPES = {
    "request": "nl.groeiruimte.partnerverzoek.verstuurd",
    "reminder": "nl.groeiruimte.partnerverzoek.herinnering",
    "escalation": "nl.groeiruimte.partnerverzoek.geescaleerd",
}


class WebhookDeliveryError(Exception):
    """The receiver did not accept the webhook."""


def cloud_event(
    settings: Settings, *, event_id: str, purpose: str, subject: str, dataref: str, data: dict[str, Any]
) -> bytes:
    """An information-poor CloudEvent: what happened and where to fetch the details (`dataref`)."""
    event = CloudEvent(
        attributes={
            "id": event_id,
            "source": settings.webhook_source,
            "type": EVENT_TYPES[purpose],
            "subject": subject,
            "time": datetime.now(UTC),
            "datacontenttype": "application/json",
            "dataref": dataref,
        },
        data=data,
    )
    return JSONFormat().write(event)


class WebhookSender:
    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._client = client

    async def post(self, url: str, secret: str, message_id: str, body: bytes) -> None:
        """POST with webhook-id, webhook-timestamp and webhook-signature; raises unless 2xx."""
        timestamp = datetime.now(UTC)
        signature = Webhook(secret).sign(message_id, timestamp, body.decode())
        headers = {
            "content-type": "application/cloudevents+json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature,
        }
        response = await self._client.post(
            url, content=body, headers=headers, timeout=self._settings.webhook_timeout_seconds
        )
        if not response.is_success:
            raise WebhookDeliveryError(f"webhook receiver answered {response.status_code}")
