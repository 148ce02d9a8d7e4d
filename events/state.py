"""The lead's state as its events have made it; built only by `events.evolve`."""

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from events.demands import DemandSpec, DemandStatus
from events.details import LeadDetails
from events.persons import SealedPersonalData
from events.reference import OutcomeCode, Province, Region

_Model = TypeVar("_Model", bound=BaseModel)


def replaced(model: _Model, changes: Mapping[str, Any]) -> _Model:
    """`model.model_copy(update=changes)`, without pydantic's generic copying of a model's inner parts.

    The same result (a shallow copy with these fields changed, not validated), at a third of the cost:
    `evolve` makes one for every event it folds. For models with neither extra fields nor private
    attributes, which the state's models are; any other model takes `model_copy`.
    """
    if model.__pydantic_extra__ is not None or model.__pydantic_private__ is not None:
        return model.model_copy(update=changes)
    copied = object.__new__(type(model))
    object.__setattr__(copied, "__dict__", {**model.__dict__, **changes})
    object.__setattr__(copied, "__pydantic_fields_set__", model.__pydantic_fields_set__.union(changes))
    object.__setattr__(copied, "__pydantic_extra__", None)
    object.__setattr__(copied, "__pydantic_private__", None)
    return copied


def constructed(model_type: type[_Model], /, **values: Any) -> _Model:
    """`model_type.model_construct(**values)` (not validated) for values that give every field, without
    pydantic's generic walk over the fields, their aliases and defaults: the same model at half the
    cost. `evolve` makes one for every note it folds. A model with aliases, extra fields, private
    attributes or a post-init hook, or values that leave a field out or give them in another order, takes
    `model_construct`."""
    # Every field, in the fields' order, as model_construct has them (the JSON a model gives follows it).
    if tuple(values) != _plain_fields(model_type):
        return model_type.model_construct(**values)
    made = object.__new__(model_type)
    object.__setattr__(made, "__dict__", values)
    _set_fields_set(made, set(values))
    _set_extra(made, None)
    _set_private(made, None)
    return made


# BaseModel's slots, set through their descriptors (cheaper than object.__setattr__ by name).
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


@cache
def _plain_fields(model_type: type[BaseModel]) -> tuple[str, ...] | None:
    """The model's field names when `model_construct` of every field does no more than `constructed`."""
    fields = model_type.__pydantic_fields__
    plain = (
        model_type.model_config.get("extra") != "allow"
        and not model_type.__private_attributes__
        and not model_type.__pydantic_post_init__
        and not model_type.__pydantic_root_model__
        and all(field.alias is None and field.validation_alias is None for field in fields.values())
    )
    return tuple(fields) if plain else None


class Stage(StrEnum):
    SIGNALLED = "signalled"
    ARTICULATING = "articulating"
    BROKERING = "brokering"
    ON_HOLD = "on_hold"
    DECIDED = "decided"
    CLOSED = "closed"


OPEN_STAGES = frozenset({Stage.SIGNALLED, Stage.ARTICULATING, Stage.BROKERING})


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True)


class DemandState(_Part):
    demand_id: UUID
    spec: DemandSpec
    status: DemandStatus = DemandStatus.OPEN
    needed_by: date | None = None
    description: str | None = None
    articulated_at: datetime


class LocationOption(_Part):
    option_id: UUID
    region: Region
    province: Province | None = None
    municipality: str | None = None
    site: str | None = None
    demand_ids: list[UUID] = Field(default_factory=list)
    proposed_at: datetime


class PartnerRequest(_Part):
    request_id: UUID
    partner_id: str
    demand_ids: list[UUID] = Field(default_factory=list)
    question: str
    due_date: date
    status: Literal["open", "answered", "withdrawn"] = "open"
    sent_at: datetime
    answer: Literal["offer", "decline"] | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = None
    answered_at: datetime | None = None
    reminders_sent: int = 0
    escalated: bool = False


class CompanyDecision(_Part):
    option_id: UUID | None = None
    declined_reason: str | None = None
    decided_at: datetime


class Outcome(_Part):
    code: OutcomeCode
    region: Region | None = None
    province: Province | None = None
    municipality: str | None = None
    country: str | None = None
    investment_eur: float | None = None
    jobs: int | None = None
    explanation: str | None = None
    recorded_at: datetime


class Note(_Part):
    note_id: UUID
    text: str
    added_at: datetime


class DeliveryFailure(_Part):
    delivery_id: str
    purpose: str
    request_id: UUID | None = None
    error: str
    failed_at: datetime


class ContactPerson(_Part):
    """A contact person: their personal data stays sealed in the state too."""

    person_id: UUID
    sealed: SealedPersonalData
    added_at: datetime
    erased_at: datetime | None = None


class LeadState(BaseModel):
    """Current state of one lead; `version` is the number of events applied."""

    model_config = ConfigDict(frozen=True)

    lead_id: UUID
    code_name: str
    version: int
    stage: Stage
    stage_before_hold: Stage | None = None
    hold_reason: str | None = None
    details: LeadDetails
    signalled_at: datetime
    last_activity_at: datetime
    articulation_completed_at: datetime | None = None
    demands: list[DemandState] = Field(default_factory=list)
    options: list[LocationOption] = Field(default_factory=list)
    partner_requests: list[PartnerRequest] = Field(default_factory=list)
    decision: CompanyDecision | None = None
    outcome: Outcome | None = None
    confirmed_investment_eur: float | None = None
    confirmed_jobs: int | None = None
    became_scale_up_at: datetime | None = None
    notes: list[Note] = Field(default_factory=list)
    disclosed_to: list[str] = Field(default_factory=list)
    # Organisations working on the case beside the owner (their taskforce may read and change the lead).
    case_team: list[str] = Field(default_factory=list)
    closed_at: datetime | None = None
    owner_nudges: int = 0
    last_nudged_at: datetime | None = None
    aftercare_requested_at: datetime | None = None
    delivery_failures: list[DeliveryFailure] = Field(default_factory=list)
    contacts: list[ContactPerson] = Field(default_factory=list)

    def demand(self, demand_id: UUID) -> DemandState | None:
        return next((d for d in self.demands if d.demand_id == demand_id), None)

    def contact(self, person_id: UUID) -> ContactPerson | None:
        return next((c for c in self.contacts if c.person_id == person_id), None)

    def option(self, option_id: UUID) -> LocationOption | None:
        return next((o for o in self.options if o.option_id == option_id), None)

    def partner_request(self, request_id: UUID) -> PartnerRequest | None:
        return next((r for r in self.partner_requests if r.request_id == request_id), None)
