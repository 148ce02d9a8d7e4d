"""The lead as shown: the JSON a read route answers with is the document `LeadPublic.from_state` gives."""

import json
from collections.abc import Callable

import pytest

from events.model import DomainEvent
from services.api.schemas import LeadBriefPublic, LeadPublic
from tests.unit.given_when_then import brokering, closed, given_lead, signalled


@pytest.mark.parametrize("history", [signalled, brokering, closed])
@pytest.mark.parametrize("show_identity", [True, False])
def test_the_json_of_a_state_is_the_document_of_its_model(
    history: Callable[[], list[DomainEvent]], show_identity: bool
) -> None:
    state = given_lead(*history())

    answered = json.loads(LeadPublic.json_from_state(state, show_identity=show_identity))

    assert answered == LeadPublic.from_state(state, show_identity=show_identity).model_dump(mode="json")
    assert answered["articulation_lead_time_days"] is not None  # the details' needed_by is set
    assert (answered["company"] is None) is not show_identity


def test_a_state_without_a_date_needed_by_answers_without_a_lead_time() -> None:
    state = given_lead(*brokering())
    state = state.model_copy(update={"details": state.details.model_copy(update={"needed_by": None})})

    answered = json.loads(LeadPublic.json_from_state(state))

    assert answered == LeadPublic.from_state(state).model_dump(mode="json")
    assert answered["articulation_lead_time_days"] is None


@pytest.mark.parametrize("history", [signalled, brokering, closed])
@pytest.mark.parametrize("show_identity", [True, False])
def test_the_stored_json_of_a_state_answers_as_the_state_does(
    history: Callable[[], list[DomainEvent]], show_identity: bool
) -> None:
    """What the single-lead read answers from the read model's document, without validating it."""
    state = given_lead(*history())
    values = json.loads(state.model_dump_json())  # as the read model stores it

    answered = LeadPublic.json_from_values(values, state.contacts, show_identity=show_identity)
    brief = LeadBriefPublic.from_values(values, show_identity=show_identity)

    assert answered == LeadPublic.json_from_state(state, show_identity=show_identity)
    assert brief == LeadBriefPublic.from_state(state, show_identity=show_identity)
    flattened = json.loads(answered)
    assert flattened["home_region"] == state.details.home_region.value  # details beside progress
    assert flattened["stage"] == state.stage.value and "details" not in flattened
    assert state.details.needed_by is not None
    lead_time = (state.details.needed_by - state.signalled_at.date()).days
    assert flattened["articulation_lead_time_days"] == lead_time
