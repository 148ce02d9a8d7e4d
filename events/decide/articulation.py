"""Rules of the lead's details and its demands (vraagarticulatie)."""

from events import commands as cmd
from events import model as ev
from events.decide.registry import WORKING, rule
from events.demands import DEMAND_STATUS_MOVES
from events.errors import InvalidCommandError, StageConflictError
from events.state import LeadState, Stage


@rule(cmd.AmendLeadDetails, WORKING)
def _amend(state: LeadState, command: cmd.AmendLeadDetails) -> list[ev.DomainEvent]:
    if not command.changes.model_dump(exclude_none=True):
        raise InvalidCommandError("nothing to amend", "changes", "empty")
    return [ev.LeadDetailsAmended(changes=command.changes)]


@rule(cmd.ArticulateDemand, WORKING)
def _articulate(state: LeadState, command: cmd.ArticulateDemand) -> list[ev.DomainEvent]:
    if state.demand(command.demand_id) is not None:
        raise StageConflictError("a demand with this id exists already", state.stage)
    return [
        ev.DemandArticulated(
            demand_id=command.demand_id,
            spec=command.spec,
            needed_by=command.needed_by,
            description=command.description,
        )
    ]


@rule(cmd.ReviseDemand, WORKING)
def _revise(state: LeadState, command: cmd.ReviseDemand) -> list[ev.DomainEvent]:
    demand = state.demand(command.demand_id)
    if demand is None:
        raise InvalidCommandError("unknown demand", "demand_id", "unknown")
    events: list[ev.DomainEvent] = []
    if command.spec is not None and command.spec.kind != demand.spec.kind:
        raise InvalidCommandError("a demand's kind cannot change", "kind", "immutable")
    if command.spec is not None or command.needed_by is not None or command.description is not None:
        events.append(
            ev.DemandRevised(
                demand_id=demand.demand_id,
                spec=command.spec or demand.spec,
                needed_by=command.needed_by or demand.needed_by,
                description=command.description or demand.description,
            )
        )
    if command.status is not None and command.status is not demand.status:
        if command.status not in DEMAND_STATUS_MOVES[demand.status]:
            raise StageConflictError(
                f"a {demand.status.value} demand cannot become {command.status.value}", state.stage
            )
        events.append(
            ev.DemandStatusChanged(
                demand_id=demand.demand_id,
                from_status=demand.status,
                to_status=command.status,
                reason=command.status_reason,
            )
        )
    if not events:
        raise InvalidCommandError("nothing to revise", "status", "empty")
    return events


@rule(cmd.CompleteArticulation, WORKING)
def _complete(state: LeadState, command: cmd.CompleteArticulation) -> list[ev.DomainEvent]:
    if state.stage is Stage.BROKERING:
        raise StageConflictError("the case-based approach has already started", state.stage)
    if not state.demands:
        raise StageConflictError("articulation needs at least one demand", state.stage)
    return [ev.ArticulationCompleted(demand_count=len(state.demands))]
