"""The company's identity hidden from those who may not see it (services/access.py `sees_identity`).

Events that carry the company (its name, KvK number and website) show it as null; everything else of
the event stays. A lead's state is shaped by `LeadPublic.from_state(…, show_identity=False)`.
"""

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from events.store import StoredEvent
from services.persons import with_personal_data

# Event type -> the part of its data that holds `company`.
COMPANY_IN: dict[str, str] = {"LeadSignalled": "details", "LeadDetailsAmended": "changes"}
_E = TypeVar("_E", bound=StoredEvent)


def without_identity(event: _E) -> _E:
    """The event as shown to someone who may not see the company's identity."""
    part = COMPANY_IN.get(event.type)
    if part is None or not isinstance(event.data.get(part), dict):
        return event
    data: dict[str, Any] = {**event.data, part: {**event.data[part], "company": None}}
    return event.model_copy(update={"data": data})


def as_disclosed(event: _E, *, show_identity: bool, keys: Mapping[UUID, bytes]) -> _E:
    """The event as the caller may see it: the company hidden unless `show_identity`, contact persons'
    data opened with `keys` (shown `[erased]` without their key, null when the identity is hidden)."""
    if event.type == "ContactPersonAdded":
        data = with_personal_data(event.data, keys if show_identity else None)
        event = event.model_copy(update={"data": data})
    return event if show_identity else without_identity(event)
