"""The lead as shown: the JSON a read route answers with is the document `LeadPublic.from_state` gives."""

import json
from collections.abc import Callable

import pytest

from events.model import DomainEvent
from services.api.schemas import LeadPublic
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
