"""The rule registry: each command's rule and the stages in which it is accepted."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from events import model as ev
from events.errors import InvalidCommandError, StageConflictError
from events.state import OPEN_STAGES, LeadState, Stage

_C = TypeVar("_C")
Rule = Callable[[LeadState, Any], list[ev.DomainEvent]]
RULES: dict[type[Any], tuple[frozenset[Stage], Rule]] = {}

ANY_BUT_CLOSED = frozenset(Stage) - {Stage.CLOSED}
WORKING = OPEN_STAGES
BROKERING = frozenset({Stage.BROKERING})


def rule(
    command_class: type[_C], stages: frozenset[Stage]
) -> Callable[[Callable[[LeadState, _C], list[ev.DomainEvent]]], None]:
    """Register the rule for `command_class`, accepted while the lead is in one of `stages`."""

    def register(rule: Callable[[LeadState, _C], list[ev.DomainEvent]]) -> None:
        RULES[command_class] = (stages, rule)

    return register


def require_demands(state: LeadState, demand_ids: Sequence[UUID], field: str = "demand_ids") -> None:
    unknown = [str(d) for d in demand_ids if state.demand(d) is None]
    if unknown:
        raise InvalidCommandError(f"unknown demand(s): {', '.join(unknown)}", field, "unknown")


def open_request(state: LeadState, request_id: UUID) -> None:
    request = state.partner_request(request_id)
    if request is None:
        raise InvalidCommandError("unknown partner request", "request_id", "unknown")
    if request.status != "open":
        raise StageConflictError(f"the partner request is already {request.status}", state.stage)
