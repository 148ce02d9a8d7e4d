"""The case team as given/when/then: organisations join a lead's team while the case is open (their
taskforce may then read and change the lead) and can be taken off it until the case is closed; the owner
is never a member."""

import pytest

from events import commands as cmd
from events import model as ev
from events.errors import InvalidCommandError, StageConflictError
from tests.unit.given_when_then import BUILDERS, after, given_lead, when

JOIN = cmd.AddCaseTeamMember(org="oost-nl", reason="the receiving region's ROM")
JOINED = ev.CaseTeamMemberAdded(org="oost-nl", reason="the receiving region's ROM")


@pytest.mark.parametrize("stage", ["signalled", "articulating", "brokering"])
def test_an_organisation_joins_the_case_team_while_the_case_is_open(stage: str) -> None:
    state = given_lead(*BUILDERS[stage]())

    events = when(state, JOIN)

    assert events == [JOINED]
    assert after(state, events).case_team == ["oost-nl"]
    assert after(state, events).stage == state.stage


@pytest.mark.parametrize("stage", ["on_hold", "decided", "closed"])
def test_a_case_on_hold_decided_or_closed_takes_no_one_new(stage: str) -> None:
    with pytest.raises(StageConflictError):
        when(given_lead(*BUILDERS[stage]()), JOIN)


@pytest.mark.parametrize("stage", ["on_hold", "decided"])
def test_a_member_can_be_taken_off_the_team_on_hold_and_after_the_decision(stage: str) -> None:
    history = [*BUILDERS["brokering"](), JOINED]
    if stage == "on_hold":
        history.append(ev.LeadPutOnHold(reason="refinancing", from_stage="brokering"))
    else:
        history.append(ev.OutcomeRecorded(code="withdrawn", explanation="stopped"))
    state = given_lead(*history)

    events = when(state, cmd.RemoveCaseTeamMember(org="oost-nl"))

    assert after(state, events).case_team == []


def test_nobody_is_taken_off_the_team_of_a_closed_case() -> None:
    state = given_lead(*BUILDERS["closed"](), JOINED)
    with pytest.raises(StageConflictError):
        when(state, cmd.RemoveCaseTeamMember(org="oost-nl"))


def test_the_owning_organisation_is_not_a_member_of_its_own_case_team() -> None:
    with pytest.raises(InvalidCommandError) as refused:
        when(given_lead(*BUILDERS["brokering"]()), cmd.AddCaseTeamMember(org="bom"))
    assert refused.value.field == "org"


def test_an_unknown_organisation_cannot_join() -> None:
    with pytest.raises(InvalidCommandError, match="unknown organisation"):
        when(given_lead(*BUILDERS["brokering"]()), cmd.AddCaseTeamMember(org="acme-holding"))


def test_a_member_joins_once() -> None:
    with pytest.raises(StageConflictError, match="already"):
        when(given_lead(*BUILDERS["brokering"](), JOINED), JOIN)


def test_members_are_kept_sorted_and_a_removed_member_leaves_the_others() -> None:
    state = given_lead(*BUILDERS["brokering"](), JOINED, ev.CaseTeamMemberAdded(org="nom"))
    assert state.case_team == ["nom", "oost-nl"]

    events = when(state, cmd.RemoveCaseTeamMember(org="oost-nl", reason="option dropped"))

    assert events == [ev.CaseTeamMemberRemoved(org="oost-nl", reason="option dropped")]
    assert after(state, events).case_team == ["nom"]


def test_only_a_member_can_be_removed() -> None:
    with pytest.raises(InvalidCommandError, match="not on the case team"):
        when(given_lead(*BUILDERS["brokering"]()), cmd.RemoveCaseTeamMember(org="oost-nl"))


def test_joining_the_case_team_discloses_nothing() -> None:
    state = after(given_lead(*BUILDERS["brokering"]()), [JOINED])
    assert state.disclosed_to == []
