"""Activities: the only Temporal code that does I/O. Built with their clients by the composition root."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from events.errors import ConcurrencyError
from events.store import EventStore, StoredEvent
from workflows.payloads import AppendInput


class LeadActivities:
    """Writes a lead's events to the event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn(name="append_events")
    async def append_events(self, append: AppendInput) -> list[StoredEvent]:
        """Append idempotently: a retry with the same event ids returns what the first try stored."""
        try:
            return await self._store.append(append.stream_id, append.expected_version, append.events)
        except ConcurrencyError as error:
            raise ApplicationError(str(error), type="ConcurrencyError", non_retryable=True) from error
