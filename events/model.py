"""Domain events: frozen, past tense, each with a stable type name and schema version.

A stored shape never changes: a new shape gets a new `schema_version` and an upcaster in
`events.upcasting`.
"""

from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from events.demands import DemandSpec, DemandStatus
from events.details import LeadDetails, LeadDetailsChanges
from events.persons import SealedPersonalData
from events.reference import CompanyStage, OutcomeCode, Province, Region


class DomainEvent(BaseModel):
    """Base of every event; `type` and `schema_version` are what the store records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def to_data(self) -> dict[str, Any]:
        """The event's payload as JSON-ready data."""
        return self.model_dump(mode="json")


class LeadSignalled(DomainEvent):
    type = "LeadSignalled"
    lead_id: UUID
    code_name: str
    details: LeadDetails


class LeadDetailsAmended(DomainEvent):
    type = "LeadDetailsAmended"
    changes: LeadDetailsChanges


class DemandArticulated(DomainEvent):
    type = "DemandArticulated"
    demand_id: UUID
    spec: DemandSpec
    needed_by: date | None = None
    description: str | None = None


class DemandRevised(DomainEvent):
    """The demand's complete new specification."""

    type = "DemandRevised"
    demand_id: UUID
    spec: DemandSpec
    needed_by: date | None = None
    description: str | None = None


class DemandStatusChanged(DomainEvent):
    type = "DemandStatusChanged"
    demand_id: UUID
    from_status: DemandStatus
    to_status: DemandStatus
    reason: str | None = None


class ArticulationCompleted(DomainEvent):
    """The case-based approach starts."""

    type = "ArticulationCompleted"
    demand_count: int


class LocationOptionProposed(DomainEvent):
    type = "LocationOptionProposed"
    option_id: UUID
    region: Region
    province: Province | None = None
    municipality: str | None = None
    site: str | None = None
    demand_ids: list[UUID] = Field(default_factory=list)


class PartnerRequestSent(DomainEvent):
    type = "PartnerRequestSent"
    request_id: UUID
    partner_id: str
    demand_ids: list[UUID] = Field(default_factory=list)
    question: str
    due_date: date


class PartnerReminderSent(DomainEvent):
    type = "PartnerReminderSent"
    request_id: UUID
    reminder_number: int
    channels: list[str] = Field(default_factory=list)


class PartnerRequestEscalated(DomainEvent):
    type = "PartnerRequestEscalated"
    request_id: UUID
    reminders_sent: int


class PartnerResponded(DomainEvent):
    type = "PartnerResponded"
    request_id: UUID
    partner_id: str
    answer: Literal["offer", "decline"]
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    reason: str | None = None


class PartnerRequestWithdrawn(DomainEvent):
    type = "PartnerRequestWithdrawn"
    request_id: UUID
    reason: str | None = None


class CompanyDecisionRecorded(DomainEvent):
    type = "CompanyDecisionRecorded"
    option_id: UUID | None = None
    declined_reason: str | None = None


class CompanyStageChanged(DomainEvent):
    type = "CompanyStageChanged"
    from_stage: CompanyStage
    to_stage: CompanyStage


class LeadPutOnHold(DomainEvent):
    type = "LeadPutOnHold"
    reason: str
    from_stage: str


class LeadResumed(DomainEvent):
    type = "LeadResumed"
    to_stage: str


class OutcomeRecorded(DomainEvent):
    type = "OutcomeRecorded"
    code: OutcomeCode
    region: Region | None = None
    province: Province | None = None
    municipality: str | None = None
    country: str | None = None
    investment_eur: float | None = None
    jobs: int | None = None
    explanation: str | None = None


class InvestmentConfirmed(DomainEvent):
    type = "InvestmentConfirmed"
    amount_eur: float
    jobs: int | None = None


class LeadClosed(DomainEvent):
    type = "LeadClosed"
    reason: str | None = None


class NoteAdded(DomainEvent):
    type = "NoteAdded"
    note_id: UUID
    text: str


class IdentityDisclosed(DomainEvent):
    type = "IdentityDisclosed"
    to_org: str
    reason: str


class CaseTeamMemberAdded(DomainEvent):
    """An organisation joins the case team: its taskforce may read and change the lead."""

    type = "CaseTeamMemberAdded"
    org: str
    reason: str | None = None


class CaseTeamMemberRemoved(DomainEvent):
    type = "CaseTeamMemberRemoved"
    org: str
    reason: str | None = None


class ContactPersonAdded(DomainEvent):
    """A contact person of the company; their personal data is sealed under their own key."""

    type = "ContactPersonAdded"
    person_id: UUID
    sealed: SealedPersonalData


class PersonalDataErased(DomainEvent):
    """A contact person's personal data was erased (GDPR): their key is deleted, the sealed bytes stay."""

    type = "PersonalDataErased"
    person_id: UUID
    reason: str | None = None


class OwnerNudged(DomainEvent):
    """The lead had no activity for the configured period; its owner was reminded."""

    type = "OwnerNudged"
    inactive_days: int


class AftercareRequested(DomainEvent):
    """Aftercare (nazorg): the owner is asked to confirm the investment of a realised outcome."""

    type = "AftercareRequested"


class NotificationDeliveryFailed(DomainEvent):
    """A reminder, escalation or nudge could not be delivered after every retry."""

    type = "NotificationDeliveryFailed"
    delivery_id: str
    purpose: str
    request_id: UUID | None = None
    error: str


# Every event class defined above, by its stable type name.
EVENT_TYPES: dict[str, type[DomainEvent]] = {cls.type: cls for cls in DomainEvent.__subclasses__()}
