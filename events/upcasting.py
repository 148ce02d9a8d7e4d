"""Pure upcasters: stored event data of an older schema version lifted to the current one on read."""

from collections.abc import Callable, Mapping
from typing import Any

from events.model import EVENT_TYPES, DomainEvent

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# (event type, stored schema version) -> function giving the data of version + 1.
UPCASTERS: Mapping[tuple[str, int], Upcaster] = {}


def upcast(
    event_type: str,
    schema_version: int,
    data: dict[str, Any],
    upcasters: Mapping[tuple[str, int], Upcaster] = UPCASTERS,
) -> tuple[dict[str, Any], int]:
    """Apply upcasters until no further one exists; returns the data and the version reached."""
    while (step := upcasters.get((event_type, schema_version))) is not None:
        data = step(dict(data))
        schema_version += 1
    return data, schema_version


def to_domain_event(event_type: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
    """Parse stored event data into its current domain event class."""
    current, _ = upcast(event_type, schema_version, data)
    return EVENT_TYPES[event_type].model_validate(current)
