"""evolve/fold: replaying a history is deterministic, and stored event data comes back as the event."""

import json
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel, Field, PrivateAttr

from events import model as ev
from events.demands import DemandStatus, FinancingInstrument, FinancingSpec
from events.details import LeadDetailsChanges
from events.evolve import evolve
from events.lead import fold
from events.model import EVENT_TYPES
from events.persons import SealedPersonalData
from events.reference import CompanyStage, OutcomeCode, Province, Region
from events.state import Note, PartnerRequest, constructed, replaced
from events.upcasting import UPCASTERS, domain_event_from_json, to_domain_event, upcast
from tests.unit.given_when_then import (
    BUILDERS,
    DEMAND_ID,
    NEW_ID,
    OPTION_ID,
    REQUEST_ID,
    closed,
    given,
    occurred_at,
    signalled,
)

# --- fold ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_folding_the_same_history_twice_gives_equal_states(stage: str) -> None:
    history = [(event, occurred_at(i)) for i, event in enumerate(BUILDERS[stage]())]

    assert fold(history) == fold(list(history))


def test_folding_equals_evolving_event_by_event() -> None:
    state = None
    for index, event in enumerate(closed()):
        state = evolve(state, event, occurred_at(index))

    assert state == given(*closed())


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_version_counts_the_events_applied(stage: str) -> None:
    events = BUILDERS[stage]()

    state = given(*events)

    assert state is not None
    assert state.version == len(events)


def test_folding_no_events_gives_no_lead() -> None:
    assert fold([]) is None


def test_history_that_does_not_start_with_lead_signalled_is_rejected() -> None:
    with pytest.raises(ValueError, match="NoteAdded"):
        evolve(None, ev.NoteAdded(note_id=NEW_ID, text="orphan"), occurred_at(0))


def test_state_remembers_signalled_and_last_activity_times() -> None:
    state = given(*closed())

    assert state is not None
    assert state.signalled_at == occurred_at(0)
    assert state.last_activity_at == occurred_at(len(closed()) - 1)


def test_a_back_dated_step_does_not_make_the_case_look_stale() -> None:
    state = given(*BUILDERS["brokering"]())
    assert state is not None

    later = evolve(state, ev.NoteAdded(note_id=NEW_ID, text="meeting last spring"), occurred_at(0))

    assert later.last_activity_at == state.last_activity_at


# --- events round-trip through their stored data --------------------------------------------------

SAMPLE_EVENTS: dict[str, ev.DomainEvent] = {
    event.type: event
    for event in [
        signalled()[0],
        ev.LeadDetailsAmended(changes=LeadDetailsChanges(jobs_at_stake=150, needed_by=date(2028, 1, 1))),
        ev.DemandArticulated(
            demand_id=DEMAND_ID,
            spec=FinancingSpec(amount_eur=5e6, instruments=[FinancingInstrument.INVEST_NL]),
            needed_by=date(2026, 1, 1),
            description="Series B gap",
        ),
        ev.DemandRevised(demand_id=DEMAND_ID, spec=FinancingSpec(amount_eur=7.5e6)),
        ev.DemandStatusChanged(
            demand_id=DEMAND_ID, from_status=DemandStatus.OPEN, to_status=DemandStatus.MATCHED, reason="VFF"
        ),
        ev.ArticulationCompleted(demand_count=2),
        ev.LocationOptionProposed(
            option_id=OPTION_ID, region=Region.OOST, province=Province.OVERIJSSEL, demand_ids=[DEMAND_ID]
        ),
        ev.PartnerRequestSent(
            request_id=REQUEST_ID,
            partner_id="tennet",
            demand_ids=[DEMAND_ID],
            question="12 MVA by 2027?",
            due_date=date(2025, 5, 1),
        ),
        ev.PartnerReminderSent(request_id=REQUEST_ID, reminder_number=2, channels=["email", "webhook"]),
        ev.PartnerRequestEscalated(request_id=REQUEST_ID, reminders_sent=3),
        ev.PartnerResponded(
            request_id=REQUEST_ID,
            partner_id="tennet",
            answer="offer",
            details={"mva": 12, "ratio": 0.5, "firm": True, "note": "2027 Q3", "caveat": None},
        ),
        ev.PartnerRequestWithdrawn(request_id=REQUEST_ID, reason="outcome recorded"),
        ev.CompanyDecisionRecorded(option_id=OPTION_ID),
        ev.CompanyStageChanged(from_stage=CompanyStage.STARTUP, to_stage=CompanyStage.SCALE_UP),
        ev.LeadPutOnHold(reason="refinancing", from_stage="brokering"),
        ev.LeadResumed(to_stage="brokering"),
        ev.OutcomeRecorded(
            code=OutcomeCode.REALISED_OTHER_REGION, region=Region.OOST, investment_eur=3.5e7, jobs=100
        ),
        ev.InvestmentConfirmed(amount_eur=3.1e7, jobs=90),
        ev.LeadClosed(reason="aftercare done"),
        ev.NoteAdded(note_id=NEW_ID, text="Visited the cleanroom."),
        ev.IdentityDisclosed(to_org="provincie-overijssel", reason="site visit"),
        ev.CaseTeamMemberAdded(org="oost-nl", reason="receiving region"),
        ev.CaseTeamMemberRemoved(org="oost-nl"),
        ev.OwnerNudged(inactive_days=31),
        ev.AftercareRequested(),
        ev.NotificationDeliveryFailed(
            delivery_id="lead-x/system/reminder/y/1",
            purpose="reminder",
            request_id=REQUEST_ID,
            error="timeout",
        ),
        ev.ContactPersonAdded(
            person_id=NEW_ID, sealed=SealedPersonalData(nonce="AAAAAAAAAAAAAAAA", ciphertext="c2VhbGVk")
        ),
        ev.PersonalDataErased(person_id=NEW_ID, reason="verzoek van betrokkene"),
    ]
}


def test_there_is_a_sample_of_every_event_type() -> None:
    assert set(SAMPLE_EVENTS) == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_round_trips_through_its_stored_json_data(event_type: str) -> None:
    event = SAMPLE_EVENTS[event_type]
    stored = json.loads(json.dumps(event.to_data()))

    restored = to_domain_event(event.type, event.schema_version, stored)

    assert type(restored) is EVENT_TYPES[event_type]
    assert restored == event


def test_restored_events_rebuild_the_same_state() -> None:
    history = closed()
    restored = [
        to_domain_event(e.type, e.schema_version, json.loads(json.dumps(e.to_data()))) for e in history
    ]

    assert given(*restored) == given(*history)


# --- upcasting -------------------------------------------------------------------------------------


def _rename_text_to_body(data: dict[str, Any]) -> dict[str, Any]:
    data["body"] = data.pop("text")
    return data


def _add_language(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "language": "nl"}


REGISTRY = {("Memo", 1): _rename_text_to_body, ("Memo", 2): _add_language}


def test_upcast_applies_the_chain_and_reports_the_version_reached() -> None:
    data, version = upcast("Memo", 1, {"text": "hallo"}, REGISTRY)

    assert (data, version) == ({"body": "hallo", "language": "nl"}, 3)


def test_upcast_starts_at_the_stored_version() -> None:
    data, version = upcast("Memo", 2, {"body": "hallo"}, REGISTRY)

    assert (data, version) == ({"body": "hallo", "language": "nl"}, 3)


def test_upcast_without_upcasters_leaves_data_and_version() -> None:
    data, version = upcast("NoteAdded", 1, {"text": "hallo"}, REGISTRY)

    assert (data, version) == ({"text": "hallo"}, 1)


def test_upcast_does_not_change_the_stored_data() -> None:
    stored = {"text": "hallo"}

    upcast("Memo", 1, stored, REGISTRY)

    assert stored == {"text": "hallo"}


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_an_event_parsed_from_its_stored_json_text_equals_the_decoded_one(stage: str) -> None:
    for event in BUILDERS[stage]():
        stored = json.dumps(event.to_data())

        parsed = domain_event_from_json(event.type, event.schema_version, stored)

        assert parsed == to_domain_event(event.type, event.schema_version, json.loads(stored)) == event


def test_an_event_parsed_from_json_text_goes_through_its_upcasters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(UPCASTERS, ("NoteAdded", 1), lambda data: {**data, "text": data["text"].upper()})
    stored = json.dumps({"note_id": str(NEW_ID), "text": "met at the fair"})

    parsed = domain_event_from_json("NoteAdded", 1, stored)

    assert isinstance(parsed, ev.NoteAdded) and parsed.text == "MET AT THE FAIR"


# --- replaced: evolve's copy of a state ----------------------------------------------------------


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_replaced_is_model_copy_with_an_update(stage: str) -> None:
    state = given(*BUILDERS[stage]())
    assert state is not None
    before = state.model_dump()
    changes = {
        "version": state.version + 1,
        "notes": [*state.notes],
        "hold_reason": "waiting for a grid slot",
    }

    copied, expected = replaced(state, changes), state.model_copy(update=changes)

    assert copied == expected
    assert copied.__pydantic_fields_set__ == expected.__pydantic_fields_set__
    assert copied.model_dump(exclude_unset=True) == expected.model_dump(exclude_unset=True)
    assert copied.model_dump_json() == expected.model_dump_json()
    assert state.model_dump() == before  # the original is untouched


def test_replaced_keeps_a_models_private_attributes_like_model_copy() -> None:
    class WithPrivate(BaseModel):
        value: int
        _seen: list[int] = PrivateAttr(default_factory=list)

    model = WithPrivate(value=1)
    model._seen.append(7)

    copied = replaced(model, {"value": 2})

    assert copied.value == 2 and copied._seen == [7]


# --- constructed: evolve's unvalidated construction of a part ---------------------------------------


@pytest.mark.parametrize("reverse", [False, True])
def test_constructed_is_model_construct_of_every_field(reverse: bool) -> None:
    values = {"note_id": NEW_ID, "text": "Site visit planned.", "added_at": occurred_at(3)}
    given_values = dict(reversed(values.items())) if reverse else values

    made, expected = constructed(Note, **given_values), Note.model_construct(**values)

    assert type(made) is Note and made == expected
    assert made.__pydantic_fields_set__ == expected.__pydantic_fields_set__
    assert made.__pydantic_extra__ is None and made.__pydantic_private__ is None
    assert made.model_dump_json() == expected.model_dump_json()
    assert made.model_dump(exclude_unset=True) == expected.model_dump(exclude_unset=True)


def test_constructed_falls_back_to_model_construct_for_what_it_does_not_cover() -> None:
    class Aliased(BaseModel):
        value: int = Field(alias="v")

    class WithPrivate(BaseModel):
        value: int
        _seen: list[int] = PrivateAttr(default_factory=list)

    partial = constructed(PartnerRequest, request_id=REQUEST_ID, partner_id="tennet")  # defaults left out
    aliased = constructed(Aliased, v=5)
    private = constructed(WithPrivate, value=1)

    assert partial.status == "open" and partial.demand_ids == [] and partial.reminders_sent == 0
    assert partial.__pydantic_fields_set__ == {"request_id", "partner_id"}
    assert aliased.value == 5
    private._seen.append(1)
    assert private._seen == [1]


@pytest.mark.parametrize("stage", list(BUILDERS))
def test_folding_onto_a_state_leaves_that_state_as_it_was(stage: str) -> None:
    events = [(event, occurred_at(i)) for i, event in enumerate(BUILDERS[stage]())]
    start = fold(events[:1])
    assert start is not None
    before = (start.model_dump(), set(start.__pydantic_fields_set__))

    folded = fold(events[1:], start)

    assert (start.model_dump(), start.__pydantic_fields_set__) == before
    one_by_one = start
    for event, at in events[1:]:
        one_by_one = evolve(one_by_one, event, at)
    assert folded == one_by_one
    assert folded is not None and folded.__pydantic_fields_set__ == one_by_one.__pydantic_fields_set__
