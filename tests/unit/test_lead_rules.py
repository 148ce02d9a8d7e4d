"""The lead's rules (DESIGN §1, §3) as given/when/then: accepted steps and every refused one."""

from collections.abc import Callable
from datetime import date

import pytest

from events import commands as cmd
from events import model as ev
from events.codenames import code_name_for
from events.demands import DemandStatus, TalentSpec
from events.errors import InvalidCommandError, LeadNotFoundError, StageConflictError
from events.reference import CompanyStage, OutcomeCode
from events.state import Stage
from tests.unit.given_when_then import (
    BUILDERS,
    DEMAND_ID,
    DETAILS,
    HOME_OF,
    HOME_REGION,
    LEAD_ID,
    NEW_ID,
    OPTION_ID,
    OTHER_REGION,
    REQUEST_ID,
    SAMPLE_COMMANDS,
    UNKNOWN_DEMAND_ID,
    after,
    articulating,
    brokering,
    closed,
    commands_except,
    decided,
    given,
    given_lead,
    occurred_at,
    on_hold_from_brokering,
    put_on_hold,
    signalled,
    when,
)

OPEN_STAGE_BUILDERS = {"signalled": signalled, "articulating": articulating, "brokering": brokering}
NOT_FROM_BROKERING_ONLY = {
    "signalled": signalled,
    "articulating": articulating,
    "on_hold": on_hold_from_brokering,
}


# --- the test fixtures themselves ------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_each_builder_reaches_the_stage_it_is_named_after(stage: str) -> None:
    assert given_lead(*BUILDERS[stage]()).stage == Stage(stage)


@pytest.mark.parametrize("name", list(SAMPLE_COMMANDS))
def test_each_sample_command_is_accepted_in_its_home_stage(name: str) -> None:
    # Guards the refusal tests below: a sample refused there is refused for its stage, not its input.
    home = HOME_OF[name]
    state = given(*BUILDERS[home]()) if home is not None else None

    events = when(state, SAMPLE_COMMANDS[name])

    assert events
    after(state, events)


# --- signalling ------------------------------------------------------------------------------------


def test_signalled_lead_gets_a_code_name_starting_with_project() -> None:
    [event] = when(None, cmd.SignalLead(lead_id=LEAD_ID, details=DETAILS))

    assert isinstance(event, ev.LeadSignalled)
    assert event.code_name.startswith("Project ")
    assert len(event.code_name) > len("Project ")
    state = after(None, [event])
    assert state.stage is Stage.SIGNALLED
    assert state.code_name == event.code_name


def test_same_lead_id_always_gets_the_same_code_name() -> None:
    command = cmd.SignalLead(lead_id=LEAD_ID, details=DETAILS)

    first = when(None, command)[0]
    second = when(None, command.model_copy())[0]

    assert isinstance(first, ev.LeadSignalled)
    assert isinstance(second, ev.LeadSignalled)
    assert first.code_name == second.code_name == code_name_for(LEAD_ID)


def test_signal_lead_with_unknown_owner_organisation_is_invalid() -> None:
    details = DETAILS.model_copy(update={"owner_org": "no-such-rom"})

    with pytest.raises(InvalidCommandError) as refused:
        when(None, cmd.SignalLead(lead_id=LEAD_ID, details=details))

    assert refused.value.field == "owner_org"


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_signal_lead_on_an_existing_lead_is_refused(stage: str) -> None:
    state = given(*BUILDERS[stage]())

    with pytest.raises(StageConflictError):
        when(state, SAMPLE_COMMANDS["SignalLead"])


@pytest.mark.parametrize("name", commands_except("SignalLead"))
def test_any_command_before_signal_lead_finds_no_lead(name: str) -> None:
    with pytest.raises(LeadNotFoundError):
        when(given(), SAMPLE_COMMANDS[name])


# --- articulation ----------------------------------------------------------------------------------


def test_first_demand_moves_signalled_lead_to_articulating() -> None:
    state = given(*signalled())

    events = when(state, SAMPLE_COMMANDS["ArticulateDemand"])

    assert [type(e) for e in events] == [ev.DemandArticulated]
    new_state = after(state, events)
    assert new_state.stage is Stage.ARTICULATING
    assert [d.demand_id for d in new_state.demands] == [NEW_ID]
    assert new_state.demands[0].status is DemandStatus.OPEN


@pytest.mark.parametrize("stage", ["articulating", "brokering"])
def test_further_demands_keep_the_lead_in_its_stage(stage: str) -> None:
    state = given_lead(*BUILDERS[stage]())

    new_state = after(state, when(state, SAMPLE_COMMANDS["ArticulateDemand"]))

    assert new_state.stage is state.stage
    assert [d.demand_id for d in new_state.demands] == [DEMAND_ID, NEW_ID]


def test_articulating_a_demand_id_twice_is_refused() -> None:
    state = given(*articulating())

    with pytest.raises(StageConflictError):
        when(state, cmd.ArticulateDemand(demand_id=DEMAND_ID, spec=TalentSpec(fte_wo=10)))


def test_completing_articulation_with_a_demand_starts_brokering() -> None:
    state = given(*articulating())

    events = when(state, cmd.CompleteArticulation())

    assert events == [ev.ArticulationCompleted(demand_count=1)]
    new_state = after(state, events)
    assert new_state.stage is Stage.BROKERING
    assert new_state.articulation_completed_at == occurred_at(len(articulating()))


def test_completing_articulation_of_signalled_lead_without_demand_is_refused() -> None:
    state = given(*signalled())

    with pytest.raises(StageConflictError):
        when(state, cmd.CompleteArticulation())


def test_completing_articulation_when_already_brokering_is_refused() -> None:
    state = given(*brokering())

    with pytest.raises(StageConflictError):
        when(state, cmd.CompleteArticulation())


# --- outcomes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [OutcomeCode.REALISED_OTHER_REGION, OutcomeCode.NO_PROPOSITION])
def test_brokering_only_outcome_is_accepted_from_brokering(code: OutcomeCode) -> None:
    state = given(*brokering())

    events = when(state, SAMPLE_COMMANDS[f"RecordOutcome({code.value})"])

    new_state = after(state, events)
    assert new_state.stage is Stage.DECIDED
    assert new_state.outcome is not None
    assert new_state.outcome.code is code


@pytest.mark.parametrize("stage", list(NOT_FROM_BROKERING_ONLY))
@pytest.mark.parametrize("code", [OutcomeCode.REALISED_OTHER_REGION, OutcomeCode.NO_PROPOSITION])
def test_brokering_only_outcome_is_refused_outside_brokering(code: OutcomeCode, stage: str) -> None:
    state = given(*NOT_FROM_BROKERING_ONLY[stage]())

    with pytest.raises(StageConflictError):
        when(state, SAMPLE_COMMANDS[f"RecordOutcome({code.value})"])


def test_realised_other_region_in_the_home_region_is_invalid() -> None:
    state = given(*brokering())
    command = cmd.RecordOutcome(
        code=OutcomeCode.REALISED_OTHER_REGION, region=HOME_REGION, investment_eur=35e6
    )

    with pytest.raises(InvalidCommandError) as refused:
        when(state, command)

    assert refused.value.field == "region"


def test_realised_other_region_without_a_region_is_invalid() -> None:
    state = given(*brokering())

    with pytest.raises(InvalidCommandError) as refused:
        when(state, cmd.RecordOutcome(code=OutcomeCode.REALISED_OTHER_REGION, investment_eur=35e6))

    assert refused.value.field == "region"


def test_realised_other_region_records_the_region_it_grows_in() -> None:
    state = given(*brokering())

    new_state = after(state, when(state, SAMPLE_COMMANDS["RecordOutcome(realised_other_region)"]))

    assert new_state.outcome is not None
    assert new_state.outcome.region is OTHER_REGION


@pytest.mark.parametrize("stage", list(OPEN_STAGE_BUILDERS))
@pytest.mark.parametrize(
    "code", [OutcomeCode.LEFT_ABROAD, OutcomeCode.WITHDRAWN, OutcomeCode.REALISED_OWN_REGION]
)
def test_any_open_stage_accepts_outcome(code: OutcomeCode, stage: str) -> None:
    state = given(*OPEN_STAGE_BUILDERS[stage]())

    new_state = after(state, when(state, SAMPLE_COMMANDS[f"RecordOutcome({code.value})"]))

    assert new_state.stage is Stage.DECIDED
    assert new_state.outcome is not None
    assert new_state.outcome.code is code


def test_realised_own_region_is_recorded_in_the_home_region() -> None:
    state = given(*articulating())

    new_state = after(state, when(state, SAMPLE_COMMANDS["RecordOutcome(realised_own_region)"]))

    assert new_state.outcome is not None
    assert new_state.outcome.region is HOME_REGION


@pytest.mark.parametrize("builder", [brokering, on_hold_from_brokering], ids=["brokering", "on_hold"])
def test_recording_an_outcome_withdraws_open_partner_requests(
    builder: Callable[[], list[ev.DomainEvent]],
) -> None:
    state = given(*builder())

    events = when(state, SAMPLE_COMMANDS["RecordOutcome(withdrawn)"])

    assert [type(e) for e in events] == [ev.PartnerRequestWithdrawn, ev.OutcomeRecorded]
    assert isinstance(events[0], ev.PartnerRequestWithdrawn)
    assert events[0].request_id == REQUEST_ID
    new_state = after(state, events)
    assert [r.status for r in new_state.partner_requests] == ["withdrawn"]


def test_recording_an_outcome_leaves_answered_partner_requests_alone() -> None:
    answered = ev.PartnerResponded(
        request_id=REQUEST_ID, partner_id="provincie-gelderland", answer="offer", details={}
    )
    state = given(*brokering(), answered)

    events = when(state, SAMPLE_COMMANDS["RecordOutcome(withdrawn)"])

    assert [type(e) for e in events] == [ev.OutcomeRecorded]
    assert [r.status for r in after(state, events).partner_requests] == ["answered"]


# --- on hold ---------------------------------------------------------------------------------------


ON_HOLD_ACCEPTS = ("ResumeLead", "AddNote", "RecordOutcome(withdrawn)", "RecordOutcome(left_abroad)")


@pytest.mark.parametrize("name", ON_HOLD_ACCEPTS)
def test_lead_on_hold_accepts_resume_notes_and_withdrawn_or_left_abroad(name: str) -> None:
    state = given(*on_hold_from_brokering())

    assert when(state, SAMPLE_COMMANDS[name])


@pytest.mark.parametrize("name", commands_except(*ON_HOLD_ACCEPTS))
def test_lead_on_hold_refuses_every_other_command(name: str) -> None:
    state = given(*on_hold_from_brokering())

    with pytest.raises(StageConflictError):
        when(state, SAMPLE_COMMANDS[name])


@pytest.mark.parametrize("stage", list(OPEN_STAGE_BUILDERS))
def test_resume_returns_the_lead_to_the_stage_it_left(stage: str) -> None:
    state = given_lead(*OPEN_STAGE_BUILDERS[stage]())
    held = after(state, when(state, SAMPLE_COMMANDS["PutLeadOnHold"]))
    assert held.stage is Stage.ON_HOLD

    events = when(held, cmd.ResumeLead())

    assert events == [ev.LeadResumed(to_stage=stage)]
    resumed = after(held, events)
    assert resumed.stage is Stage(stage)
    assert resumed.hold_reason is None


def test_putting_a_lead_on_hold_records_the_stage_it_left() -> None:
    state = given(*articulating())

    events = when(state, cmd.PutLeadOnHold(reason="waiting for a funding round"))

    assert events == [ev.LeadPutOnHold(reason="waiting for a funding round", from_stage="articulating")]


def test_resumed_lead_cannot_be_resumed_again() -> None:
    resumed = given_lead(*put_on_hold(brokering()), ev.LeadResumed(to_stage="brokering"))

    with pytest.raises(StageConflictError):
        when(resumed, cmd.ResumeLead())


# --- decided and closed ----------------------------------------------------------------------------


DECIDED_ACCEPTS = ("AddNote", "ConfirmInvestment", "ChangeCompanyStage", "CloseLead")


@pytest.mark.parametrize("name", DECIDED_ACCEPTS)
def test_decided_lead_accepts_notes_aftercare_company_stage_and_close(name: str) -> None:
    state = given(*decided())

    assert when(state, SAMPLE_COMMANDS[name])


@pytest.mark.parametrize("name", commands_except(*DECIDED_ACCEPTS))
def test_decided_lead_refuses_every_other_command(name: str) -> None:
    state = given(*decided())

    with pytest.raises(StageConflictError):
        when(state, SAMPLE_COMMANDS[name])


def test_aftercare_confirms_the_invested_amount() -> None:
    state = given(*decided())

    new_state = after(state, when(state, cmd.ConfirmInvestment(amount_eur=30e6, jobs=90)))

    assert new_state.confirmed_investment_eur == 30e6
    assert new_state.confirmed_jobs == 90
    assert new_state.stage is Stage.DECIDED


def test_closing_a_decided_lead_closes_it() -> None:
    state = given(*decided())

    new_state = after(state, when(state, cmd.CloseLead()))

    assert new_state.stage is Stage.CLOSED
    assert new_state.closed_at == occurred_at(len(decided()))


@pytest.mark.parametrize("name", list(SAMPLE_COMMANDS))
def test_closed_lead_refuses_every_command(name: str) -> None:
    state = given(*closed())

    with pytest.raises(StageConflictError):
        when(state, SAMPLE_COMMANDS[name])


@pytest.mark.parametrize("stage", [s for s in BUILDERS if s != "decided"])
def test_lead_never_closes_without_an_outcome(stage: str) -> None:
    state = given(*BUILDERS[stage]())

    with pytest.raises(StageConflictError):
        when(state, cmd.CloseLead())


# --- partner requests and options ------------------------------------------------------------------


def test_partner_responding_twice_is_refused() -> None:
    state = given_lead(*brokering())
    answered = after(state, when(state, SAMPLE_COMMANDS["RespondToPartnerRequest"]))
    assert answered.partner_requests[0].status == "answered"

    with pytest.raises(StageConflictError):
        when(answered, cmd.RespondToPartnerRequest(request_id=REQUEST_ID, answer="decline", reason="full"))


def test_partner_responding_to_a_withdrawn_request_is_refused() -> None:
    state = given(*brokering(), ev.PartnerRequestWithdrawn(request_id=REQUEST_ID))

    with pytest.raises(StageConflictError):
        when(state, SAMPLE_COMMANDS["RespondToPartnerRequest"])


def test_partner_decline_without_reason_is_invalid() -> None:
    state = given(*brokering())

    with pytest.raises(InvalidCommandError) as refused:
        when(state, cmd.RespondToPartnerRequest(request_id=REQUEST_ID, answer="decline"))

    assert refused.value.field == "reason"


def test_partner_decline_with_reason_is_recorded() -> None:
    state = given(*brokering())
    command = cmd.RespondToPartnerRequest(request_id=REQUEST_ID, answer="decline", reason="no grid capacity")

    [event] = when(state, command)

    assert event == ev.PartnerResponded(
        request_id=REQUEST_ID, partner_id="provincie-gelderland", answer="decline", reason="no grid capacity"
    )
    request = after(state, [event]).partner_requests[0]
    assert (request.status, request.answer, request.reason) == ("answered", "decline", "no grid capacity")


def test_location_option_for_unknown_demand_is_invalid() -> None:
    state = given(*brokering())
    command = cmd.ProposeLocationOption(
        option_id=NEW_ID, region=OTHER_REGION, demand_ids=[DEMAND_ID, UNKNOWN_DEMAND_ID]
    )

    with pytest.raises(InvalidCommandError) as refused:
        when(state, command)

    assert (refused.value.field, refused.value.code) == ("demand_ids", "unknown")


def test_partner_request_for_unknown_demand_is_invalid() -> None:
    state = given(*brokering())
    command = cmd.SendPartnerRequest(
        request_id=NEW_ID,
        partner_id="tennet",
        demand_ids=[UNKNOWN_DEMAND_ID],
        question="Grid capacity?",
        due_date=date(2025, 5, 1),
    )

    with pytest.raises(InvalidCommandError) as refused:
        when(state, command)

    assert (refused.value.field, refused.value.code) == ("demand_ids", "unknown")


def test_company_decision_for_unknown_option_is_invalid() -> None:
    state = given(*brokering())

    with pytest.raises(InvalidCommandError) as refused:
        when(state, cmd.RecordCompanyDecision(option_id=NEW_ID))

    assert refused.value.field == "option_id"


def test_company_decision_for_a_proposed_option_is_recorded() -> None:
    state = given(*brokering())

    new_state = after(state, when(state, cmd.RecordCompanyDecision(option_id=OPTION_ID)))

    assert new_state.decision is not None
    assert new_state.decision.option_id == OPTION_ID


# --- demand status ---------------------------------------------------------------------------------


def _status(to: DemandStatus) -> cmd.ReviseDemand:
    return cmd.ReviseDemand(demand_id=DEMAND_ID, status=to)


def _with_status(*path: DemandStatus) -> list[ev.DomainEvent]:
    """The brokering lead's demand moved along `path`, starting from open."""
    moves = zip([DemandStatus.OPEN, *path], path, strict=False)
    return [
        *brokering(),
        *(ev.DemandStatusChanged(demand_id=DEMAND_ID, from_status=a, to_status=b) for a, b in moves),
    ]


@pytest.mark.parametrize("final", [DemandStatus.RESOLVED, DemandStatus.UNRESOLVED])
def test_demand_moves_from_open_to_matched_to_resolved_or_unresolved(final: DemandStatus) -> None:
    state = given_lead(*brokering())

    matched = after(state, when(state, _status(DemandStatus.MATCHED)))
    assert matched.demands[0].status is DemandStatus.MATCHED
    events = when(matched, _status(final))

    assert events == [
        ev.DemandStatusChanged(demand_id=DEMAND_ID, from_status=DemandStatus.MATCHED, to_status=final)
    ]
    assert after(matched, events).demands[0].status is final


def test_open_demand_cannot_skip_matched_to_resolved() -> None:
    state = given(*brokering())

    with pytest.raises(StageConflictError):
        when(state, _status(DemandStatus.RESOLVED))


@pytest.mark.parametrize("final", [DemandStatus.RESOLVED, DemandStatus.UNRESOLVED])
@pytest.mark.parametrize("back_to", [DemandStatus.OPEN, DemandStatus.MATCHED])
def test_settled_demand_cannot_move_back(final: DemandStatus, back_to: DemandStatus) -> None:
    state = given_lead(*_with_status(DemandStatus.MATCHED, final))
    assert state.demands[0].status is final

    with pytest.raises(StageConflictError):
        when(state, _status(back_to))


def test_revising_an_unknown_demand_is_invalid() -> None:
    state = given(*brokering())

    with pytest.raises(InvalidCommandError) as refused:
        when(state, cmd.ReviseDemand(demand_id=UNKNOWN_DEMAND_ID, status=DemandStatus.MATCHED))

    assert refused.value.field == "demand_id"


def test_revising_a_demand_cannot_change_its_kind() -> None:
    state = given(*brokering())

    with pytest.raises(InvalidCommandError) as refused:
        when(state, cmd.ReviseDemand(demand_id=DEMAND_ID, spec=TalentSpec(fte_hbo=5)))

    assert refused.value.field == "kind"


# --- company stage ---------------------------------------------------------------------------------


def test_company_becoming_scale_up_records_when() -> None:
    state = given_lead(*articulating())
    assert state.became_scale_up_at is None

    events = when(state, cmd.ChangeCompanyStage(company_stage=CompanyStage.SCALE_UP))

    assert events == [ev.CompanyStageChanged(from_stage=CompanyStage.STARTUP, to_stage=CompanyStage.SCALE_UP)]
    new_state = after(state, events)
    assert new_state.details.company_stage is CompanyStage.SCALE_UP
    assert new_state.became_scale_up_at == occurred_at(state.version)


def test_company_growing_up_without_scaling_up_records_no_scale_up_time() -> None:
    state = given(*articulating())

    new_state = after(state, when(state, cmd.ChangeCompanyStage(company_stage=CompanyStage.GROWN_UP)))

    assert new_state.became_scale_up_at is None


def test_company_becoming_scale_up_again_keeps_the_first_time() -> None:
    to_scale_up = ev.CompanyStageChanged(from_stage=CompanyStage.STARTUP, to_stage=CompanyStage.SCALE_UP)
    back = ev.CompanyStageChanged(from_stage=CompanyStage.SCALE_UP, to_stage=CompanyStage.STARTUP)
    again = ev.CompanyStageChanged(from_stage=CompanyStage.STARTUP, to_stage=CompanyStage.SCALE_UP)

    state = given_lead(*signalled(), to_scale_up, back, again)

    assert state.became_scale_up_at == occurred_at(1)


def test_changing_company_stage_to_the_current_one_is_refused() -> None:
    state = given(*signalled())

    with pytest.raises(StageConflictError):
        when(state, cmd.ChangeCompanyStage(company_stage=CompanyStage.STARTUP))
