"""evolve(state, event, occurred_at) -> state: how each event changes a lead. Pure."""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from events import model as ev
from events.reference import CompanyStage
from events.state import (
    CompanyDecision,
    ContactPerson,
    DeliveryFailure,
    DemandState,
    LeadState,
    LocationOption,
    Note,
    Outcome,
    PartnerRequest,
    Stage,
    constructed,
    replaced,
)

# Events the workflow records by itself: they are not activity on the case (stale-lead nudges count
# from the last event that is not one of these).
SYSTEM_EVENTS: frozenset[type[ev.DomainEvent]] = frozenset(
    {
        ev.PartnerReminderSent,
        ev.PartnerRequestEscalated,
        ev.OwnerNudged,
        ev.AftercareRequested,
        ev.NotificationDeliveryFailed,
    }
)

_Handler = Callable[[LeadState, Any, datetime], dict[str, Any]]
_HANDLERS: dict[type[ev.DomainEvent], _Handler] = {}
_E = TypeVar("_E", bound=ev.DomainEvent)


def _on(event_class: type[_E]) -> Callable[[Callable[[LeadState, _E, datetime], dict[str, Any]]], None]:
    def register(handler: Callable[[LeadState, _E, datetime], dict[str, Any]]) -> None:
        _HANDLERS[event_class] = handler

    return register


def evolve(state: LeadState | None, event: ev.DomainEvent, occurred_at: datetime) -> LeadState:
    """The lead's state after `event`; the first event must be LeadSignalled."""
    if isinstance(event, ev.LeadSignalled):
        return _signalled(event, occurred_at)
    if state is None:
        raise ValueError(f"{event.type} cannot start a lead's history")
    return replaced(state, _changes(state, event, occurred_at))


def evolve_all(
    state: LeadState | None, history: Iterable[tuple[ev.DomainEvent, datetime]]
) -> LeadState | None:
    """The state after evolving by each event in turn: the same state as `evolve` event by event.

    One copy for the whole run instead of one per event: the copy (a draft no one else sees until it is
    returned) takes each event's changes in place. Handlers never keep the state they are given, only
    values read from it, so nothing shared is changed; `state` itself is left as it was.
    """
    draft: LeadState | None = None
    for event, occurred_at in history:
        if isinstance(event, ev.LeadSignalled):
            draft = _signalled(event, occurred_at)
            continue
        if draft is None:
            if state is None:
                raise ValueError(f"{event.type} cannot start a lead's history")
            draft = replaced(state, {})
        changes = _changes(draft, event, occurred_at)
        draft.__dict__.update(changes)
        draft.__pydantic_fields_set__.update(changes)
    return state if draft is None else draft


def _signalled(event: ev.LeadSignalled, occurred_at: datetime) -> LeadState:
    return LeadState(
        lead_id=event.lead_id,
        code_name=event.code_name,
        version=1,
        stage=Stage.SIGNALLED,
        details=event.details,
        signalled_at=occurred_at,
        last_activity_at=occurred_at,
    )


def _changes(state: LeadState, event: ev.DomainEvent, occurred_at: datetime) -> dict[str, Any]:
    changes = _HANDLERS[type(event)](state, event, occurred_at)
    if type(event) not in SYSTEM_EVENTS:
        # A back-dated step (a meeting recorded later) does not make the case look stale.
        changes["last_activity_at"] = max(state.last_activity_at, occurred_at)
    changes["version"] = state.version + 1
    return changes


def _replace_demand(state: LeadState, demand_id: UUID, **changes: Any) -> list[DemandState]:
    return [replaced(d, changes) if d.demand_id == demand_id else d for d in state.demands]


def _replace_request(state: LeadState, request_id: UUID, **changes: Any) -> list[PartnerRequest]:
    return [replaced(r, changes) if r.request_id == request_id else r for r in state.partner_requests]


@_on(ev.LeadDetailsAmended)
def _amended(state: LeadState, event: ev.LeadDetailsAmended, at: datetime) -> dict[str, Any]:
    # Only the fields given change; a null in an amendment means "not given".
    changes = {name: value for name, value in event.changes.__dict__.items() if value is not None}
    return {"details": replaced(state.details, changes)}


@_on(ev.DemandArticulated)
def _articulated(state: LeadState, event: ev.DemandArticulated, at: datetime) -> dict[str, Any]:
    demand = DemandState(
        demand_id=event.demand_id,
        spec=event.spec,
        needed_by=event.needed_by,
        description=event.description,
        articulated_at=at,
    )
    stage = Stage.ARTICULATING if state.stage is Stage.SIGNALLED else state.stage
    return {"demands": [*state.demands, demand], "stage": stage}


@_on(ev.DemandRevised)
def _revised(state: LeadState, event: ev.DemandRevised, at: datetime) -> dict[str, Any]:
    # decide() puts the demand's complete new specification in the event.
    demands = _replace_demand(
        state, event.demand_id, spec=event.spec, needed_by=event.needed_by, description=event.description
    )
    return {"demands": demands}


@_on(ev.DemandStatusChanged)
def _status(state: LeadState, event: ev.DemandStatusChanged, at: datetime) -> dict[str, Any]:
    return {"demands": _replace_demand(state, event.demand_id, status=event.to_status)}


@_on(ev.ArticulationCompleted)
def _completed(state: LeadState, event: ev.ArticulationCompleted, at: datetime) -> dict[str, Any]:
    return {"stage": Stage.BROKERING, "articulation_completed_at": at}


@_on(ev.LocationOptionProposed)
def _option(state: LeadState, event: ev.LocationOptionProposed, at: datetime) -> dict[str, Any]:
    option = LocationOption(**event.model_dump(), proposed_at=at)
    return {"options": [*state.options, option]}


@_on(ev.PartnerRequestSent)
def _request(state: LeadState, event: ev.PartnerRequestSent, at: datetime) -> dict[str, Any]:
    request = PartnerRequest(**event.model_dump(), sent_at=at)
    return {"partner_requests": [*state.partner_requests, request]}


@_on(ev.PartnerReminderSent)
def _reminded(state: LeadState, event: ev.PartnerReminderSent, at: datetime) -> dict[str, Any]:
    requests = _replace_request(state, event.request_id, reminders_sent=event.reminder_number)
    return {"partner_requests": requests}


@_on(ev.PartnerRequestEscalated)
def _escalated(state: LeadState, event: ev.PartnerRequestEscalated, at: datetime) -> dict[str, Any]:
    return {"partner_requests": _replace_request(state, event.request_id, escalated=True)}


@_on(ev.PartnerResponded)
def _responded(state: LeadState, event: ev.PartnerResponded, at: datetime) -> dict[str, Any]:
    requests = _replace_request(
        state,
        event.request_id,
        status="answered",
        answer=event.answer,
        details=event.details,
        reason=event.reason,
        answered_at=at,
    )
    return {"partner_requests": requests}


@_on(ev.PartnerRequestWithdrawn)
def _withdrawn(state: LeadState, event: ev.PartnerRequestWithdrawn, at: datetime) -> dict[str, Any]:
    requests = _replace_request(state, event.request_id, status="withdrawn", reason=event.reason)
    return {"partner_requests": requests}


@_on(ev.CompanyDecisionRecorded)
def _decision(state: LeadState, event: ev.CompanyDecisionRecorded, at: datetime) -> dict[str, Any]:
    return {"decision": CompanyDecision(**event.model_dump(), decided_at=at)}


@_on(ev.CompanyStageChanged)
def _company_stage(state: LeadState, event: ev.CompanyStageChanged, at: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {"details": replaced(state.details, {"company_stage": event.to_stage})}
    if event.to_stage is CompanyStage.SCALE_UP and state.became_scale_up_at is None:
        changes["became_scale_up_at"] = at
    return changes


@_on(ev.LeadPutOnHold)
def _on_hold(state: LeadState, event: ev.LeadPutOnHold, at: datetime) -> dict[str, Any]:
    return {"stage": Stage.ON_HOLD, "stage_before_hold": state.stage, "hold_reason": event.reason}


@_on(ev.LeadResumed)
def _resumed(state: LeadState, event: ev.LeadResumed, at: datetime) -> dict[str, Any]:
    return {"stage": Stage(event.to_stage), "stage_before_hold": None, "hold_reason": None}


@_on(ev.OutcomeRecorded)
def _outcome(state: LeadState, event: ev.OutcomeRecorded, at: datetime) -> dict[str, Any]:
    outcome = Outcome(**event.model_dump(), recorded_at=at)
    return {"stage": Stage.DECIDED, "outcome": outcome, "stage_before_hold": None, "hold_reason": None}


@_on(ev.InvestmentConfirmed)
def _confirmed(state: LeadState, event: ev.InvestmentConfirmed, at: datetime) -> dict[str, Any]:
    return {"confirmed_investment_eur": event.amount_eur, "confirmed_jobs": event.jobs}


@_on(ev.LeadClosed)
def _closed(state: LeadState, event: ev.LeadClosed, at: datetime) -> dict[str, Any]:
    return {"stage": Stage.CLOSED, "closed_at": at}


@_on(ev.NoteAdded)
def _note(state: LeadState, event: ev.NoteAdded, at: datetime) -> dict[str, Any]:
    # Constructed, not validated: every value is already of its type (half the events of a case are notes).
    note = constructed(Note, note_id=event.note_id, text=event.text, added_at=at)
    return {"notes": [*state.notes, note]}


@_on(ev.IdentityDisclosed)
def _disclosed(state: LeadState, event: ev.IdentityDisclosed, at: datetime) -> dict[str, Any]:
    return {"disclosed_to": sorted({*state.disclosed_to, event.to_org})}


@_on(ev.CaseTeamMemberAdded)
def _joined(state: LeadState, event: ev.CaseTeamMemberAdded, at: datetime) -> dict[str, Any]:
    return {"case_team": sorted({*state.case_team, event.org})}


@_on(ev.CaseTeamMemberRemoved)
def _left(state: LeadState, event: ev.CaseTeamMemberRemoved, at: datetime) -> dict[str, Any]:
    return {"case_team": [org for org in state.case_team if org != event.org]}


@_on(ev.OwnerNudged)
def _nudged(state: LeadState, event: ev.OwnerNudged, at: datetime) -> dict[str, Any]:
    return {"owner_nudges": state.owner_nudges + 1, "last_nudged_at": at}


@_on(ev.AftercareRequested)
def _aftercare(state: LeadState, event: ev.AftercareRequested, at: datetime) -> dict[str, Any]:
    return {"aftercare_requested_at": at}


@_on(ev.NotificationDeliveryFailed)
def _delivery_failed(state: LeadState, event: ev.NotificationDeliveryFailed, at: datetime) -> dict[str, Any]:
    failure = DeliveryFailure(**event.model_dump(), failed_at=at)
    return {"delivery_failures": [*state.delivery_failures, failure]}


@_on(ev.ContactPersonAdded)
def _contact_added(state: LeadState, event: ev.ContactPersonAdded, at: datetime) -> dict[str, Any]:
    contact = ContactPerson(person_id=event.person_id, sealed=event.sealed, added_at=at)
    return {"contacts": [*state.contacts, contact]}


@_on(ev.PersonalDataErased)
def _erased(state: LeadState, event: ev.PersonalDataErased, at: datetime) -> dict[str, Any]:
    contacts = [
        replaced(c, {"erased_at": at}) if c.person_id == event.person_id else c for c in state.contacts
    ]
    return {"contacts": contacts}
