"""HTTP request and response schemas (`…Create` / `…Update` / `…Public`)."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic_core import to_json

from events import demands
from events.commands import MAX_DEMANDS_PER_STEP, AnswerDetails
from events.demands import DemandSpec, DemandStatus
from events.details import CountryCode, LeadDetails, LeadDetailsChanges, OrgSlug, ShortText, Text
from events.reference import CompanyStage, Domain, OutcomeCode, Province, Region
from events.state import ContactPerson, LeadState, Stage
from events.store import StoredEvent
from services.disclosure import as_disclosed
from services.persons import ContactView, PersonalData, contact_views


class CommandBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    occurred_at: AwareDatetime | None = Field(
        default=None, description="Business time of the step (back-dating, e.g. a meeting's date)"
    )


class LeadCreate(LeadDetails, CommandBody):
    model_config = ConfigDict(extra="forbid", frozen=False)


class LeadUpdate(LeadDetailsChanges, CommandBody):
    model_config = ConfigDict(extra="forbid", frozen=False)


class _DemandExtras(CommandBody):
    needed_by: date | None = None
    description: Annotated[str, Field(max_length=4000)] | None = None


class SpaceDemandCreate(demands.SpaceSpec, _DemandExtras):
    model_config = ConfigDict(extra="forbid", frozen=False)


class CapitalDemandCreate(demands.CapitalSpec, _DemandExtras):
    model_config = ConfigDict(extra="forbid", frozen=False)


class TalentDemandCreate(demands.TalentSpec, _DemandExtras):
    model_config = ConfigDict(extra="forbid", frozen=False)


class HousingAccessibilityDemandCreate(demands.HousingAccessibilitySpec, _DemandExtras):
    model_config = ConfigDict(extra="forbid", frozen=False)


class EnergyDemandCreate(demands.EnergySpec, _DemandExtras):
    model_config = ConfigDict(extra="forbid", frozen=False)


class FinancingDemandCreate(demands.FinancingSpec, _DemandExtras):
    model_config = ConfigDict(extra="forbid", frozen=False)


DemandCreate = Annotated[
    SpaceDemandCreate
    | CapitalDemandCreate
    | TalentDemandCreate
    | HousingAccessibilityDemandCreate
    | EnergyDemandCreate
    | FinancingDemandCreate,
    Field(discriminator="kind"),
]
DEMAND_EXTRA_FIELDS = frozenset(_DemandExtras.model_fields)


class DemandUpdate(CommandBody):
    """Revise a demand: a new specification (same kind), its dates and text, and/or its status."""

    spec: DemandSpec | None = None
    needed_by: date | None = None
    description: Annotated[str, Field(max_length=4000)] | None = None
    status: DemandStatus | None = None
    status_reason: Annotated[str, Field(max_length=2000)] | None = None


class OptionCreate(CommandBody):
    region: Region
    province: Province | None = None
    municipality: ShortText | None = None
    site: ShortText | None = None
    demand_ids: list[UUID] = Field(default_factory=list, max_length=MAX_DEMANDS_PER_STEP)


class PartnerRequestCreate(CommandBody):
    partner_id: OrgSlug
    demand_ids: list[UUID] = Field(default_factory=list, max_length=MAX_DEMANDS_PER_STEP)
    question: Text
    due_date: date | None = Field(default=None, description="Default: 10 working days from today")


class WithdrawalCreate(CommandBody):
    reason: Annotated[str, Field(max_length=4000)] | None = None


class IdentityDisclosureCreate(CommandBody):
    to_org: OrgSlug
    reason: Text


class CaseTeamMemberCreate(CommandBody):
    reason: Annotated[str, Field(max_length=4000)] | None = None


class PartnerResponseCreate(CommandBody):
    answer: Literal["offer", "decline"]
    details: AnswerDetails = Field(default_factory=dict)
    reason: Annotated[str, Field(max_length=4000)] | None = None


class DecisionCreate(CommandBody):
    option_id: UUID | None = None
    declined_reason: Annotated[str, Field(max_length=4000)] | None = None


class CompanyStageUpdate(CommandBody):
    company_stage: CompanyStage


class OutcomeCreate(CommandBody):
    code: OutcomeCode
    region: Region | None = None
    province: Province | None = None
    municipality: ShortText | None = None
    country: CountryCode | None = None
    investment_eur: Annotated[float, Field(ge=0)] | None = None
    jobs: Annotated[int, Field(ge=0)] | None = None
    explanation: Annotated[str, Field(max_length=4000)] | None = None


class HoldCreate(CommandBody):
    reason: Text


class StepCreate(CommandBody):
    """A step without input of its own (resume, complete articulation)."""


class CloseCreate(CommandBody):
    reason: Annotated[str, Field(max_length=4000)] | None = None


class ContactCreate(PersonalData, CommandBody):
    """A contact person of the company: sealed under their own key before it is recorded."""


class NoteCreate(CommandBody):
    text: Text


class InvestmentConfirmationCreate(CommandBody):
    amount_eur: Annotated[float, Field(ge=0)]
    jobs: Annotated[int, Field(ge=0)] | None = None


class LeadBriefPublic(BaseModel):
    """What anyone with lead access may see of a lead owned by another organisation (the company's
    name only when its identity was disclosed to the caller's organisation)."""

    lead_id: UUID
    code_name: str
    stage: Stage
    home_region: Region
    domains: list[Domain]
    company_name: str | None = None

    @classmethod
    def from_state(cls, state: LeadState, *, show_identity: bool) -> "LeadBriefPublic":
        details = state.details
        name = details.company.name if show_identity else None
        return cls(lead_id=state.lead_id, code_name=state.code_name, stage=state.stage,
                   home_region=details.home_region, domains=details.domains, company_name=name)  # fmt: skip

    @classmethod
    def from_values(cls, values: Mapping[str, Any], *, show_identity: bool) -> "LeadBriefPublic":
        """`from_state` of the state whose JSON values these are (`LeadState.model_dump(mode="json")`)."""
        details = values["details"]
        name = details["company"]["name"] if show_identity else None
        return cls.model_validate({
            "lead_id": values["lead_id"], "code_name": values["code_name"], "stage": values["stage"],
            "home_region": details["home_region"], "domains": details["domains"], "company_name": name,
        })  # fmt: skip


class PartnerAnswerPublic(BaseModel):
    """What answering a partner request returns: that request, by the lead's code name."""

    request_id: UUID
    code_name: str
    status: str
    answer: str | None
    answered_at: datetime | None


class LeadPublic(BaseModel):
    """A lead's full current state, flattened: its details beside its progress."""

    model_config = ConfigDict(extra="allow")

    lead_id: UUID
    code_name: str
    stage: Stage
    version: int
    owner_org: str
    home_region: Region
    domains: list[Domain]
    company: dict[str, Any] | None = None
    contacts: list[ContactView] | None = Field(
        default=None,
        description="Contact persons (personal data, `[erased]` once erased); null for those who may "
        "not see the company's identity",
    )
    signalled_at: datetime
    articulation_lead_time_days: int | None = None

    @classmethod
    def from_state(
        cls, state: LeadState, *, show_identity: bool = True, keys: Mapping[UUID, bytes] | None = None
    ) -> "LeadPublic":
        """The state as shown; `keys` are the contact persons' keys (none given: all shown erased)."""
        body = _public_body(state.model_dump(mode="json"), state.contacts, show_identity, keys)
        return cls.model_validate(body)

    @staticmethod
    def json_from_state(
        state: LeadState, *, show_identity: bool = True, keys: Mapping[UUID, bytes] | None = None
    ) -> bytes:
        """`from_state(…)` as the JSON a route answers with, without building the model and having the
        framework take it apart again: the same document (its fields in another order) in half the time,
        for the reads that answer with a whole state (tens of kilobytes for a long case)."""
        return LeadPublic.json_from_values(
            state.model_dump(mode="json"), state.contacts, show_identity=show_identity, keys=keys
        )

    @staticmethod
    def json_from_values(
        values: Mapping[str, Any],
        contacts: Sequence[ContactPerson],
        *,
        show_identity: bool = True,
        keys: Mapping[UUID, bytes] | None = None,
    ) -> bytes:
        """`json_from_state(…)` of the state whose JSON values (`LeadState.model_dump(mode="json")`) and
        contact persons these are: a read that has the stored document need not validate it first."""
        return to_json(_public_body(values, contacts, show_identity, keys))


_NOT_FLATTENED = frozenset({"details", "contacts"})


def _public_body(
    values: Mapping[str, Any],
    contacts: Sequence[ContactPerson],
    show_identity: bool,
    keys: Mapping[UUID, bytes] | None,
) -> dict[str, Any]:
    """The state's JSON values flattened: its details beside its progress, contact persons as shown."""
    details = values["details"]
    body = {**details, **{name: value for name, value in values.items() if name not in _NOT_FLATTENED}}
    body["contacts"] = contact_views(contacts, keys or {}) if show_identity else None
    if not show_identity:
        body["company"] = None
    needed_by = details["needed_by"]
    body["articulation_lead_time_days"] = (
        None
        if needed_by is None
        else (date.fromisoformat(needed_by) - datetime.fromisoformat(values["signalled_at"]).date()).days
    )
    return body


class CommandResponse(LeadPublic):
    """A command's answer: the lead's new state and the events it recorded."""

    events: list[StoredEvent]

    @classmethod
    def from_state_and_events(
        cls,
        state: LeadState,
        events: list[StoredEvent],
        *,
        show_identity: bool = True,
        keys: Mapping[UUID, bytes] | None = None,
    ) -> "CommandResponse":
        public = LeadPublic.from_state(state, show_identity=show_identity, keys=keys)
        shown = [as_disclosed(event, show_identity=show_identity, keys=keys or {}) for event in events]
        return cls.model_validate({**public.model_dump(mode="json"), "events": shown})


class LeadPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[dict[str, Any]]
