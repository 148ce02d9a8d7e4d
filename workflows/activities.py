"""Activities: the only Temporal code that does I/O. Built with their clients by the composition root."""

import logging
from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from events.errors import ConcurrencyError
from events.store import EventStore, StoredEvent
from workflows.metrics import EVENTS_APPENDED, NOTIFICATIONS
from workflows.payloads import AppendInput, DeliveryInput

log = logging.getLogger("groeiruimte.activities")


class Notifier(Protocol):
    """Delivers a lead's notifications (e-mail, webhooks); implemented in services/notifications."""

    async def deliver(self, delivery: DeliveryInput) -> list[str]:
        """Deliver once per delivery id; returns the channels used. Raises to be retried."""
        ...


class LeadActivities:
    """Writes a lead's events to the event store and delivers its notifications."""

    def __init__(self, store: EventStore, notifier: Notifier) -> None:
        self._store = store
        self._notifier = notifier

    @activity.defn(name="append_events")
    async def append_events(self, append: AppendInput) -> list[StoredEvent]:
        """Append idempotently: a retry with the same event ids returns what the first try stored."""
        try:
            stored = await self._store.append(append.stream_id, append.expected_version, append.events)
        except ConcurrencyError as error:
            raise ApplicationError(str(error), type="ConcurrencyError", non_retryable=True) from error
        for event in stored:
            EVENTS_APPENDED.labels(event.type).inc()
        correlation_id = stored[0].metadata.correlation_id if stored else None
        log.info(
            "appended %d event(s) to %s",
            len(stored),
            append.stream_id,
            extra={"correlation_id": correlation_id, "types": [event.type for event in stored]},
        )
        return stored

    @activity.defn(name="deliver_notification")
    async def deliver_notification(self, delivery: DeliveryInput) -> list[str]:
        try:
            channels = await self._notifier.deliver(delivery)
        except Exception:
            NOTIFICATIONS.labels(delivery.purpose, "failed").inc()
            raise
        NOTIFICATIONS.labels(delivery.purpose, "delivered").inc()
        return channels
