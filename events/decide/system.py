"""Rules of the commands the lead's workflow issues on its own timers (never over HTTP)."""

from events import commands as cmd
from events import model as ev
from events.decide.registry import ANY_BUT_CLOSED, BROKERING, WORKING, open_request, rule
from events.errors import StageConflictError
from events.reference import REALISED_OUTCOMES
from events.state import LeadState, Stage


@rule(cmd.SendPartnerReminder, BROKERING)
def _remind(state: LeadState, command: cmd.SendPartnerReminder) -> list[ev.DomainEvent]:
    open_request(state, command.request_id)
    request = state.partner_request(command.request_id)
    assert request is not None
    if command.reminder_number != request.reminders_sent + 1:
        raise StageConflictError(f"reminder {command.reminder_number} is not the next one", state.stage)
    return [
        ev.PartnerReminderSent(
            request_id=command.request_id, reminder_number=command.reminder_number, channels=command.channels
        )
    ]


@rule(cmd.EscalatePartnerRequest, BROKERING)
def _escalate(state: LeadState, command: cmd.EscalatePartnerRequest) -> list[ev.DomainEvent]:
    open_request(state, command.request_id)
    request = state.partner_request(command.request_id)
    assert request is not None
    if request.escalated:
        raise StageConflictError("the partner request was already escalated", state.stage)
    return [ev.PartnerRequestEscalated(request_id=command.request_id, reminders_sent=request.reminders_sent)]


@rule(cmd.NudgeOwner, WORKING)
def _nudge(state: LeadState, command: cmd.NudgeOwner) -> list[ev.DomainEvent]:
    return [ev.OwnerNudged(inactive_days=command.inactive_days)]


@rule(cmd.RequestAftercare, frozenset({Stage.DECIDED}))
def _request_aftercare(state: LeadState, command: cmd.RequestAftercare) -> list[ev.DomainEvent]:
    if state.outcome is None or state.outcome.code not in REALISED_OUTCOMES:
        raise StageConflictError("only a realised outcome has aftercare", state.stage)
    if state.aftercare_requested_at is not None or state.confirmed_investment_eur is not None:
        raise StageConflictError("aftercare was already requested", state.stage)
    return [ev.AftercareRequested()]


@rule(cmd.RecordDeliveryFailure, ANY_BUT_CLOSED)
def _delivery_failure(state: LeadState, command: cmd.RecordDeliveryFailure) -> list[ev.DomainEvent]:
    return [ev.NotificationDeliveryFailed(**command.model_dump(exclude={"command_type"}))]
