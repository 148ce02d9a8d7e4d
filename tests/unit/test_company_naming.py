"""A partner request's question may not name the company the partner may not know."""

import pytest

from events import commands as cmd
from events import model as ev
from events.details import Company
from events.errors import InvalidCommandError
from events.naming import names_company
from tests.unit.given_when_then import REQUEST_ID, SAMPLE_COMMANDS, brokering, given, when

COMPANY = Company(name="Fotonica Eindhoven B.V.", kvk_number="12345678", website="https://www.fotonica.nl/")


@pytest.mark.parametrize(
    "text",
    [
        "Is there room for Fotonica Eindhoven near the campus?",
        "FOTONICA EINDHOVEN needs 4 MVA",
        "see KvK 12345678",
        "their site fotonica.nl says so",
        "Fotonica  Eindhoven, B.V. asks",
    ],
)
def test_texts_naming_the_company_are_recognised(text: str) -> None:
    assert names_company(text, COMPANY)


@pytest.mark.parametrize(
    "text",
    ["Is there room for a photonics scale-up near the campus?", "Project Zilverreiger needs 4 MVA", "B.V."],
)
def test_texts_that_do_not_name_it_pass(text: str) -> None:
    assert not names_company(text, COMPANY)


def test_a_question_naming_the_company_is_refused_unless_disclosed_to_that_partner() -> None:
    sample: cmd.SendPartnerRequest = SAMPLE_COMMANDS["SendPartnerRequest"]
    state = given(*brokering())
    assert state is not None
    naming = sample.model_copy(
        update={"question": f"Room for {state.details.company.name}?", "request_id": REQUEST_ID}
    )

    with pytest.raises(InvalidCommandError) as refused:
        when(state, naming)
    assert refused.value.field == "question" and state.code_name in str(refused.value)

    disclosed = given(*brokering(), ev.IdentityDisclosed(to_org=sample.partner_id, reason="NDA signed"))
    assert when(disclosed, naming)
