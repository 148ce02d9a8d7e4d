"""decide(state, command) -> events: the lead's rules (DESIGN §1). Pure; raises DomainError on refusal."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from events import commands as cmd
from events import model as ev
from events.codenames import code_name_for
from events.demands import DEMAND_STATUS_MOVES
from events.errors import InvalidCommandError, LeadNotFoundError, StageConflictError
from events.persons import MAX_CONTACTS_PER_LEAD
from events.reference import REALISED_OUTCOMES, CompanyStage, OutcomeCode, is_known_organisation
from events.state import OPEN_STAGES, LeadState, Stage

_C = TypeVar("_C")
_Rule = Callable[[LeadState, Any], list[ev.DomainEvent]]
_RULES: dict[type[Any], tuple[frozenset[Stage], _Rule]] = {}

_ANY_BUT_CLOSED = frozenset(Stage) - {Stage.CLOSED}
_WORKING = OPEN_STAGES
_BROKERING = frozenset({Stage.BROKERING})


def _rule(
    command_class: type[_C], stages: frozenset[Stage]
) -> Callable[[Callable[[LeadState, _C], list[ev.DomainEvent]]], None]:
    def register(rule: Callable[[LeadState, _C], list[ev.DomainEvent]]) -> None:
        _RULES[command_class] = (stages, rule)

    return register


def decide(state: LeadState | None, command: Any) -> list[ev.DomainEvent]:
    """The events a command produces on the lead, or a DomainError saying why it is refused."""
    if isinstance(command, cmd.SignalLead):
        if state is not None:
            raise StageConflictError("the lead has already been signalled", state.stage)
        return _signal(command)
    if state is None:
        raise LeadNotFoundError("no lead has been signalled with this id")
    stages, rule = _RULES[type(command)]
    if state.stage not in stages:
        raise StageConflictError(
            f"{command.command_type} is not allowed while the lead is {state.stage.value}", state.stage
        )
    return rule(state, command)


def allowed_stages(command_class: type[Any]) -> frozenset[Stage]:
    """The stages in which a command is accepted (for documentation and UIs)."""
    return _RULES[command_class][0]


def _signal(command: cmd.SignalLead) -> list[ev.DomainEvent]:
    if not is_known_organisation(command.details.owner_org):
        raise InvalidCommandError("unknown organisation", "owner_org", "unknown")
    return [
        ev.LeadSignalled(
            lead_id=command.lead_id, code_name=code_name_for(command.lead_id), details=command.details
        )
    ]


def _require_demands(state: LeadState, demand_ids: Sequence[UUID], field: str = "demand_ids") -> None:
    unknown = [str(d) for d in demand_ids if state.demand(d) is None]
    if unknown:
        raise InvalidCommandError(f"unknown demand(s): {', '.join(unknown)}", field, "unknown")


@_rule(cmd.AmendLeadDetails, _WORKING)
def _amend(state: LeadState, command: cmd.AmendLeadDetails) -> list[ev.DomainEvent]:
    if not command.changes.model_dump(exclude_none=True):
        raise InvalidCommandError("nothing to amend", "changes", "empty")
    return [ev.LeadDetailsAmended(changes=command.changes)]


@_rule(cmd.ArticulateDemand, _WORKING)
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


@_rule(cmd.ReviseDemand, _WORKING)
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


@_rule(cmd.CompleteArticulation, _WORKING)
def _complete(state: LeadState, command: cmd.CompleteArticulation) -> list[ev.DomainEvent]:
    if state.stage is Stage.BROKERING:
        raise StageConflictError("the case-based approach has already started", state.stage)
    if not state.demands:
        raise StageConflictError("articulation needs at least one demand", state.stage)
    return [ev.ArticulationCompleted(demand_count=len(state.demands))]


@_rule(cmd.ProposeLocationOption, _BROKERING)
def _propose(state: LeadState, command: cmd.ProposeLocationOption) -> list[ev.DomainEvent]:
    _require_demands(state, command.demand_ids)
    return [ev.LocationOptionProposed(**command.model_dump(exclude={"command_type"}))]


@_rule(cmd.SendPartnerRequest, _BROKERING)
def _send_request(state: LeadState, command: cmd.SendPartnerRequest) -> list[ev.DomainEvent]:
    # Whether the partner is in the registry is checked where the registry is: at the API.
    _require_demands(state, command.demand_ids)
    return [ev.PartnerRequestSent(**command.model_dump(exclude={"command_type"}))]


def _open_request(state: LeadState, request_id: UUID) -> None:
    request = state.partner_request(request_id)
    if request is None:
        raise InvalidCommandError("unknown partner request", "request_id", "unknown")
    if request.status != "open":
        raise StageConflictError(f"the partner request is already {request.status}", state.stage)


@_rule(cmd.RespondToPartnerRequest, _BROKERING)
def _respond(state: LeadState, command: cmd.RespondToPartnerRequest) -> list[ev.DomainEvent]:
    _open_request(state, command.request_id)
    if command.answer == "decline" and not command.reason:
        raise InvalidCommandError("a decline needs a reason", "reason", "required")
    request = state.partner_request(command.request_id)
    assert request is not None
    return [
        ev.PartnerResponded(
            request_id=command.request_id,
            partner_id=request.partner_id,
            answer=command.answer,
            details=command.details,
            reason=command.reason,
        )
    ]


@_rule(cmd.WithdrawPartnerRequest, _BROKERING)
def _withdraw(state: LeadState, command: cmd.WithdrawPartnerRequest) -> list[ev.DomainEvent]:
    _open_request(state, command.request_id)
    return [ev.PartnerRequestWithdrawn(request_id=command.request_id, reason=command.reason)]


@_rule(cmd.RecordCompanyDecision, _BROKERING)
def _decision(state: LeadState, command: cmd.RecordCompanyDecision) -> list[ev.DomainEvent]:
    if (command.option_id is None) == (command.declined_reason is None):
        raise InvalidCommandError("give either option_id or declined_reason", "option_id", "one_of")
    if command.option_id is not None and state.option(command.option_id) is None:
        raise InvalidCommandError("unknown location option", "option_id", "unknown")
    return [ev.CompanyDecisionRecorded(option_id=command.option_id, declined_reason=command.declined_reason)]


@_rule(cmd.ChangeCompanyStage, _WORKING | {Stage.DECIDED})
def _company_stage(state: LeadState, command: cmd.ChangeCompanyStage) -> list[ev.DomainEvent]:
    current: CompanyStage = state.details.company_stage
    if command.company_stage is current:
        raise StageConflictError(f"the company is already {current.value}", state.stage)
    return [ev.CompanyStageChanged(from_stage=current, to_stage=command.company_stage)]


@_rule(cmd.PutLeadOnHold, _WORKING)
def _hold(state: LeadState, command: cmd.PutLeadOnHold) -> list[ev.DomainEvent]:
    return [ev.LeadPutOnHold(reason=command.reason, from_stage=state.stage.value)]


@_rule(cmd.ResumeLead, frozenset({Stage.ON_HOLD}))
def _resume(state: LeadState, command: cmd.ResumeLead) -> list[ev.DomainEvent]:
    to_stage = state.stage_before_hold or Stage.SIGNALLED
    return [ev.LeadResumed(to_stage=to_stage.value)]


_OUTCOME_STAGES: dict[OutcomeCode, frozenset[Stage]] = {
    OutcomeCode.REALISED_OTHER_REGION: _BROKERING,
    OutcomeCode.NO_PROPOSITION: _BROKERING,
    OutcomeCode.REALISED_OWN_REGION: _WORKING,
    OutcomeCode.LEFT_ABROAD: _WORKING | {Stage.ON_HOLD},
    OutcomeCode.WITHDRAWN: _WORKING | {Stage.ON_HOLD},
}


@_rule(cmd.RecordOutcome, _WORKING | {Stage.ON_HOLD})
def _outcome(state: LeadState, command: cmd.RecordOutcome) -> list[ev.DomainEvent]:
    if state.stage not in _OUTCOME_STAGES[command.code]:
        raise StageConflictError(
            f"outcome {command.code.value} is not allowed while the lead is {state.stage.value}",
            state.stage,
        )
    outcome = _checked_outcome(state, command)
    withdrawals: list[ev.DomainEvent] = [
        ev.PartnerRequestWithdrawn(request_id=r.request_id, reason="outcome recorded")
        for r in state.partner_requests
        if r.status == "open"
    ]
    return [*withdrawals, outcome]


def _checked_outcome(state: LeadState, command: cmd.RecordOutcome) -> ev.OutcomeRecorded:
    home = state.details.home_region
    region = command.region
    if command.code is OutcomeCode.REALISED_OTHER_REGION:
        if region is None:
            raise InvalidCommandError("the region where the company grows is required", "region", "required")
        if region is home:
            raise InvalidCommandError("the region must differ from the home region", "region", "same_region")
    if command.code is OutcomeCode.REALISED_OWN_REGION:
        if region not in (None, home):
            raise InvalidCommandError("own region must be the home region", "region", "other_region")
        region = home
    if command.code is OutcomeCode.LEFT_ABROAD and command.country in (None, "NL"):
        raise InvalidCommandError("the foreign country is required", "country", "required")
    if command.code in REALISED_OUTCOMES and command.investment_eur is None:
        raise InvalidCommandError("a realised outcome needs investment_eur", "investment_eur", "required")
    data = command.model_dump(exclude={"command_type", "region"})
    return ev.OutcomeRecorded(**data, region=region)


@_rule(cmd.ConfirmInvestment, frozenset({Stage.DECIDED}))
def _confirm(state: LeadState, command: cmd.ConfirmInvestment) -> list[ev.DomainEvent]:
    if state.outcome is None or state.outcome.code not in REALISED_OUTCOMES:
        raise StageConflictError("only a realised outcome has an investment to confirm", state.stage)
    return [ev.InvestmentConfirmed(amount_eur=command.amount_eur, jobs=command.jobs)]


@_rule(cmd.CloseLead, frozenset({Stage.DECIDED}))
def _close(state: LeadState, command: cmd.CloseLead) -> list[ev.DomainEvent]:
    return [ev.LeadClosed(reason=command.reason)]


@_rule(cmd.AddNote, _ANY_BUT_CLOSED)
def _note(state: LeadState, command: cmd.AddNote) -> list[ev.DomainEvent]:
    return [ev.NoteAdded(note_id=command.note_id, text=command.text)]


@_rule(cmd.DiscloseIdentity, _WORKING)
def _disclose(state: LeadState, command: cmd.DiscloseIdentity) -> list[ev.DomainEvent]:
    if not is_known_organisation(command.to_org):
        raise InvalidCommandError("unknown organisation", "to_org", "unknown")
    if command.to_org in state.disclosed_to:
        raise StageConflictError("the identity was already disclosed to this organisation", state.stage)
    return [ev.IdentityDisclosed(to_org=command.to_org, reason=command.reason)]


@_rule(cmd.AddCaseTeamMember, _WORKING)
def _add_to_case_team(state: LeadState, command: cmd.AddCaseTeamMember) -> list[ev.DomainEvent]:
    if not is_known_organisation(command.org):
        raise InvalidCommandError("unknown organisation", "org", "unknown")
    if command.org == state.details.owner_org:
        raise InvalidCommandError("the owning organisation leads the case already", "org", "owner")
    if command.org in state.case_team:
        raise StageConflictError("this organisation is on the case team already", state.stage)
    return [ev.CaseTeamMemberAdded(org=command.org, reason=command.reason)]


# Taking access away is always possible while the case lives, also on hold and after the decision.
@_rule(cmd.RemoveCaseTeamMember, _ANY_BUT_CLOSED)
def _remove_from_case_team(state: LeadState, command: cmd.RemoveCaseTeamMember) -> list[ev.DomainEvent]:
    if command.org not in state.case_team:
        raise InvalidCommandError("this organisation is not on the case team", "org", "not_a_member")
    return [ev.CaseTeamMemberRemoved(org=command.org, reason=command.reason)]


@_rule(cmd.AddContactPerson, _ANY_BUT_CLOSED)
def _add_contact(state: LeadState, command: cmd.AddContactPerson) -> list[ev.DomainEvent]:
    if state.contact(command.person_id) is not None:
        raise StageConflictError("this contact person is recorded already", state.stage)
    if len(state.contacts) >= MAX_CONTACTS_PER_LEAD:
        raise InvalidCommandError(f"at most {MAX_CONTACTS_PER_LEAD} contact persons", "person_id", "too_many")
    return [ev.ContactPersonAdded(person_id=command.person_id, sealed=command.sealed)]


# The right to erasure holds in every stage, also after the case is closed.
@_rule(cmd.ErasePerson, frozenset(Stage))
def _erase_person(state: LeadState, command: cmd.ErasePerson) -> list[ev.DomainEvent]:
    contact = state.contact(command.person_id)
    if contact is None:
        raise InvalidCommandError("no such contact person on this lead", "person_id", "unknown")
    if contact.erased_at is not None:
        raise StageConflictError("this person's data was erased already", state.stage)
    return [ev.PersonalDataErased(person_id=command.person_id, reason=command.reason)]


@_rule(cmd.SendPartnerReminder, _BROKERING)
def _remind(state: LeadState, command: cmd.SendPartnerReminder) -> list[ev.DomainEvent]:
    _open_request(state, command.request_id)
    request = state.partner_request(command.request_id)
    assert request is not None
    if command.reminder_number != request.reminders_sent + 1:
        raise StageConflictError(f"reminder {command.reminder_number} is not the next one", state.stage)
    return [
        ev.PartnerReminderSent(
            request_id=command.request_id, reminder_number=command.reminder_number, channels=command.channels
        )
    ]


@_rule(cmd.EscalatePartnerRequest, _BROKERING)
def _escalate(state: LeadState, command: cmd.EscalatePartnerRequest) -> list[ev.DomainEvent]:
    _open_request(state, command.request_id)
    request = state.partner_request(command.request_id)
    assert request is not None
    if request.escalated:
        raise StageConflictError("the partner request was already escalated", state.stage)
    return [ev.PartnerRequestEscalated(request_id=command.request_id, reminders_sent=request.reminders_sent)]


@_rule(cmd.NudgeOwner, _WORKING)
def _nudge(state: LeadState, command: cmd.NudgeOwner) -> list[ev.DomainEvent]:
    return [ev.OwnerNudged(inactive_days=command.inactive_days)]


@_rule(cmd.RequestAftercare, frozenset({Stage.DECIDED}))
def _request_aftercare(state: LeadState, command: cmd.RequestAftercare) -> list[ev.DomainEvent]:
    if state.outcome is None or state.outcome.code not in REALISED_OUTCOMES:
        raise StageConflictError("only a realised outcome has aftercare", state.stage)
    if state.aftercare_requested_at is not None or state.confirmed_investment_eur is not None:
        raise StageConflictError("aftercare was already requested", state.stage)
    return [ev.AftercareRequested()]


@_rule(cmd.RecordDeliveryFailure, _ANY_BUT_CLOSED)
def _delivery_failure(state: LeadState, command: cmd.RecordDeliveryFailure) -> list[ev.DomainEvent]:
    return [ev.NotificationDeliveryFailed(**command.model_dump(exclude={"command_type"}))]
