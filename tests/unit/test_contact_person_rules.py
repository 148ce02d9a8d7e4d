"""Contact persons: recorded sealed, erasable in every stage (also after closing), erased once."""

from uuid import UUID

import pytest

from events import commands as cmd
from events import model as ev
from events.errors import InvalidCommandError, StageConflictError
from events.persons import SealedPersonalData
from tests.unit.given_when_then import BUILDERS, after, closed, given, given_lead, signalled, when

PERSON_ID = UUID("00000000-0000-4000-8000-0000000c0001")
SEALED = SealedPersonalData(nonce="AAAAAAAAAAAAAAAA", ciphertext="c2VhbGVk")
ADDED = ev.ContactPersonAdded(person_id=PERSON_ID, sealed=SEALED)


def test_adding_a_contact_person_records_only_the_sealed_data() -> None:
    state = given(*signalled())

    events = when(state, cmd.AddContactPerson(person_id=PERSON_ID, sealed=SEALED))

    assert events == [ADDED]
    contact = after(state, events).contact(PERSON_ID)
    assert contact is not None and contact.sealed == SEALED and contact.erased_at is None


def test_the_same_person_cannot_be_added_twice() -> None:
    with pytest.raises(StageConflictError):
        when(given(*signalled(), ADDED), cmd.AddContactPerson(person_id=PERSON_ID, sealed=SEALED))


def test_a_closed_lead_takes_no_new_contact_persons() -> None:
    with pytest.raises(StageConflictError):
        when(given(*closed()), cmd.AddContactPerson(person_id=PERSON_ID, sealed=SEALED))


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_a_person_can_be_erased_in_every_stage(stage: str) -> None:
    history = [*BUILDERS[stage]()]
    history.insert(1, ADDED)  # recorded right after signalling
    state = given(*history)

    events = when(state, cmd.ErasePerson(person_id=PERSON_ID, reason="verzoek van betrokkene"))

    assert events == [ev.PersonalDataErased(person_id=PERSON_ID, reason="verzoek van betrokkene")]
    contact = after(state, events).contact(PERSON_ID)
    assert contact is not None and contact.erased_at is not None
    assert contact.sealed == SEALED  # the bytes stay (the log is append-only); only the key goes


def test_erasing_twice_is_refused_and_unknown_persons_are_invalid() -> None:
    erased = given(*signalled(), ADDED, ev.PersonalDataErased(person_id=PERSON_ID))
    with pytest.raises(StageConflictError):
        when(erased, cmd.ErasePerson(person_id=PERSON_ID))
    with pytest.raises(InvalidCommandError) as refused:
        when(given_lead(*signalled()), cmd.ErasePerson(person_id=PERSON_ID))
    assert refused.value.field == "person_id"
