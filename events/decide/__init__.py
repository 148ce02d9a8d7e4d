"""decide(state, command) -> events: the lead's rules (DESIGN §1). Pure; raises DomainError on refusal.

Each module registers the rules of one part of the case; `decide` finds a command's rule and checks the
stage before running it.
"""

from typing import Any

from events import commands as cmd
from events import model as ev
from events.codenames import code_name_for
from events.decide import articulation, brokering, course, people, system
from events.decide.registry import RULES
from events.errors import InvalidCommandError, LeadNotFoundError, StageConflictError
from events.reference import is_known_organisation
from events.state import LeadState, Stage

RULE_MODULES = (articulation, brokering, course, people, system)  # importing them registers their rules


def decide(state: LeadState | None, command: Any) -> list[ev.DomainEvent]:
    """The events a command produces on the lead, or a DomainError saying why it is refused."""
    if isinstance(command, cmd.SignalLead):
        if state is not None:
            raise StageConflictError("the lead has already been signalled", state.stage)
        return _signal(command)
    if state is None:
        raise LeadNotFoundError("no lead has been signalled with this id")
    stages, rule = RULES[type(command)]
    if state.stage not in stages:
        raise StageConflictError(
            f"{command.command_type} is not allowed while the lead is {state.stage.value}", state.stage
        )
    return rule(state, command)


def allowed_stages(command_class: type[Any]) -> frozenset[Stage]:
    """The stages in which a command is accepted (for documentation and UIs)."""
    return RULES[command_class][0]


def _signal(command: cmd.SignalLead) -> list[ev.DomainEvent]:
    if not is_known_organisation(command.details.owner_org):
        raise InvalidCommandError("unknown organisation", "owner_org", "unknown")
    return [
        ev.LeadSignalled(
            lead_id=command.lead_id, code_name=code_name_for(command.lead_id), details=command.details
        )
    ]
