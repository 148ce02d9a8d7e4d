"""Rules of brokering: location options, partner requests and the company's decision."""

from events import commands as cmd
from events import model as ev
from events.decide.registry import BROKERING, open_request, require_demands, rule
from events.errors import InvalidCommandError
from events.naming import names_company
from events.state import LeadState


@rule(cmd.ProposeLocationOption, BROKERING)
def _propose(state: LeadState, command: cmd.ProposeLocationOption) -> list[ev.DomainEvent]:
    require_demands(state, command.demand_ids)
    return [ev.LocationOptionProposed(**command.model_dump(exclude={"command_type"}))]


@rule(cmd.SendPartnerRequest, BROKERING)
def _send_request(state: LeadState, command: cmd.SendPartnerRequest) -> list[ev.DomainEvent]:
    # Whether the partner is in the registry is checked where the registry is: at the API.
    require_demands(state, command.demand_ids)
    if command.partner_id not in state.disclosed_to and names_company(
        command.question, state.details.company
    ):
        raise InvalidCommandError(
            f"the question names the company, which this partner may not know; call it {state.code_name}",
            "question",
            "names_company",
        )
    return [ev.PartnerRequestSent(**command.model_dump(exclude={"command_type"}))]


@rule(cmd.RespondToPartnerRequest, BROKERING)
def _respond(state: LeadState, command: cmd.RespondToPartnerRequest) -> list[ev.DomainEvent]:
    open_request(state, command.request_id)
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


@rule(cmd.WithdrawPartnerRequest, BROKERING)
def _withdraw(state: LeadState, command: cmd.WithdrawPartnerRequest) -> list[ev.DomainEvent]:
    open_request(state, command.request_id)
    return [ev.PartnerRequestWithdrawn(request_id=command.request_id, reason=command.reason)]


@rule(cmd.RecordCompanyDecision, BROKERING)
def _decision(state: LeadState, command: cmd.RecordCompanyDecision) -> list[ev.DomainEvent]:
    if (command.option_id is None) == (command.declined_reason is None):
        raise InvalidCommandError("give either option_id or declined_reason", "option_id", "one_of")
    if command.option_id is not None and state.option(command.option_id) is None:
        raise InvalidCommandError("unknown location option", "option_id", "unknown")
    return [ev.CompanyDecisionRecorded(option_id=command.option_id, declined_reason=command.declined_reason)]
