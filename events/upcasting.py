"""Pure upcasters: stored event data of an older schema version lifted to the current one on read."""

import json
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


def domain_event_from_json(event_type: str, schema_version: int, data: str | bytes) -> DomainEvent:
    """`to_domain_event` of stored data still in its JSON text: parsed and validated in one step when no
    upcaster applies (half the cost of decoding the JSON first), through the upcasters otherwise."""
    if (event_type, schema_version) in UPCASTERS:
        return to_domain_event(event_type, schema_version, json.loads(data))
    return EVENT_TYPES[event_type].model_validate_json(data)
