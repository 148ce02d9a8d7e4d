"""Rules of the case's course and end: company stage, hold and resume, outcome, aftercare, closing, notes."""

from events import commands as cmd
from events import model as ev
from events.decide.registry import ANY_BUT_CLOSED, BROKERING, WORKING, rule
from events.errors import InvalidCommandError, StageConflictError
from events.reference import REALISED_OUTCOMES, CompanyStage, OutcomeCode
from events.state import LeadState, Stage


@rule(cmd.ChangeCompanyStage, WORKING | {Stage.DECIDED})
def _company_stage(state: LeadState, command: cmd.ChangeCompanyStage) -> list[ev.DomainEvent]:
    current: CompanyStage = state.details.company_stage
    if command.company_stage is current:
        raise StageConflictError(f"the company is already {current.value}", state.stage)
    return [ev.CompanyStageChanged(from_stage=current, to_stage=command.company_stage)]


@rule(cmd.PutLeadOnHold, WORKING)
def _hold(state: LeadState, command: cmd.PutLeadOnHold) -> list[ev.DomainEvent]:
    return [ev.LeadPutOnHold(reason=command.reason, from_stage=state.stage.value)]


@rule(cmd.ResumeLead, frozenset({Stage.ON_HOLD}))
def _resume(state: LeadState, command: cmd.ResumeLead) -> list[ev.DomainEvent]:
    to_stage = state.stage_before_hold or Stage.SIGNALLED
    return [ev.LeadResumed(to_stage=to_stage.value)]


_OUTCOME_STAGES: dict[OutcomeCode, frozenset[Stage]] = {
    OutcomeCode.REALISED_OTHER_REGION: BROKERING,
    OutcomeCode.NO_PROPOSITION: BROKERING,
    OutcomeCode.REALISED_OWN_REGION: WORKING,
    OutcomeCode.LEFT_ABROAD: WORKING | {Stage.ON_HOLD},
    OutcomeCode.WITHDRAWN: WORKING | {Stage.ON_HOLD},
}


@rule(cmd.RecordOutcome, WORKING | {Stage.ON_HOLD})
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


@rule(cmd.ConfirmInvestment, frozenset({Stage.DECIDED}))
def _confirm(state: LeadState, command: cmd.ConfirmInvestment) -> list[ev.DomainEvent]:
    if state.outcome is None or state.outcome.code not in REALISED_OUTCOMES:
        raise StageConflictError("only a realised outcome has an investment to confirm", state.stage)
    return [ev.InvestmentConfirmed(amount_eur=command.amount_eur, jobs=command.jobs)]


@rule(cmd.CloseLead, frozenset({Stage.DECIDED}))
def _close(state: LeadState, command: cmd.CloseLead) -> list[ev.DomainEvent]:
    return [ev.LeadClosed(reason=command.reason)]


@rule(cmd.AddNote, ANY_BUT_CLOSED)
def _note(state: LeadState, command: cmd.AddNote) -> list[ev.DomainEvent]:
    return [ev.NoteAdded(note_id=command.note_id, text=command.text)]
