"""The event store's interface and envelope (DESIGN §4). Implementations live in services/."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from events.model import DomainEvent
from events.upcasting import to_domain_event


class Actor(BaseModel):
    """Who caused an event."""

    model_config = ConfigDict(frozen=True)

    sub: str
    org: str
    role: str


class EventMetadata(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: Actor
    command_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    reason: str | None = None


class NewEvent(BaseModel):
    """An event ready to append: the store adds position, version, record time and hashes."""

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    type: str
    schema_version: int = 1
    occurred_at: datetime
    data: dict[str, Any]
    metadata: EventMetadata

    @classmethod
    def from_domain(
        cls, event: DomainEvent, *, event_id: UUID, occurred_at: datetime, metadata: EventMetadata
    ) -> "NewEvent":
        return cls(
            event_id=event_id,
            type=event.type,
            schema_version=event.schema_version,
            occurred_at=occurred_at,
            data=event.to_data(),
            metadata=metadata,
        )


class StoredEvent(NewEvent):
    """An event as the log holds it."""

    position: int
    stream_id: str
    stream_version: int
    recorded_at: datetime
    prev_hash: str
    hash: str = Field(min_length=64, max_length=64)

    def to_domain(self) -> DomainEvent:
        return to_domain_event(self.type, self.schema_version, self.data)


class EventStore(Protocol):
    """Append-only, hash-chained log of events, one stream per lead."""

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> list[StoredEvent]:
        """Append atomically after `expected_version`; events whose ids exist are returned, not rewritten.

        Raises ConcurrencyError when the stream is not at `expected_version`.
        """
        ...

    async def load_stream(self, stream_id: str, *, known_at: datetime | None = None) -> list[StoredEvent]:
        """The stream's events in order, optionally only those recorded by `known_at`."""
        ...

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events of the whole log after a position, in position order."""
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The version of the stream's last event; 0 when it has none."""
        ...
