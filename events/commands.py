"""Commands: what staff and partners ask of a lead. Imperative names, one discriminated union."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from events.demands import DemandSpec, DemandStatus
from events.details import CountryCode, LeadDetails, LeadDetailsChanges, OrgSlug, ShortText, Text
from events.persons import SealedPersonalData
from events.reference import CompanyStage, OutcomeCode, Province, Region

MAX_DEMANDS_PER_STEP = 50
# A partner's answer: a few named facts (site, capacity, price …), each short.
AnswerDetails = Annotated[
    dict[
        Annotated[str, Field(max_length=100)],
        Annotated[str, Field(max_length=2000)] | int | float | bool | None,
    ],
    Field(max_length=30),
]


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignalLead(_Command):
    command_type: Literal["SignalLead"] = "SignalLead"
    lead_id: UUID
    details: LeadDetails


class AmendLeadDetails(_Command):
    command_type: Literal["AmendLeadDetails"] = "AmendLeadDetails"
    changes: LeadDetailsChanges


class ArticulateDemand(_Command):
    command_type: Literal["ArticulateDemand"] = "ArticulateDemand"
    demand_id: UUID
    spec: DemandSpec
    needed_by: date | None = None
    description: Annotated[str, Field(max_length=4000)] | None = None


class ReviseDemand(_Command):
    """Revise a demand's specification and/or move its status."""

    command_type: Literal["ReviseDemand"] = "ReviseDemand"
    demand_id: UUID
    spec: DemandSpec | None = None
    needed_by: date | None = None
    description: Annotated[str, Field(max_length=4000)] | None = None
    status: DemandStatus | None = None
    status_reason: Annotated[str, Field(max_length=2000)] | None = None


class CompleteArticulation(_Command):
    command_type: Literal["CompleteArticulation"] = "CompleteArticulation"


class ProposeLocationOption(_Command):
    command_type: Literal["ProposeLocationOption"] = "ProposeLocationOption"
    option_id: UUID
    region: Region
    province: Province | None = None
    municipality: ShortText | None = None
    site: ShortText | None = None
    demand_ids: list[UUID] = Field(default_factory=list, max_length=MAX_DEMANDS_PER_STEP)


class SendPartnerRequest(_Command):
    command_type: Literal["SendPartnerRequest"] = "SendPartnerRequest"
    request_id: UUID
    partner_id: OrgSlug
    demand_ids: list[UUID] = Field(default_factory=list, max_length=MAX_DEMANDS_PER_STEP)
    question: Text
    due_date: date


class RespondToPartnerRequest(_Command):
    command_type: Literal["RespondToPartnerRequest"] = "RespondToPartnerRequest"
    request_id: UUID
    answer: Literal["offer", "decline"]
    details: AnswerDetails = Field(default_factory=dict)
    reason: Annotated[str, Field(max_length=4000)] | None = None


class WithdrawPartnerRequest(_Command):
    command_type: Literal["WithdrawPartnerRequest"] = "WithdrawPartnerRequest"
    request_id: UUID
    reason: Annotated[str, Field(max_length=4000)] | None = None


class RecordCompanyDecision(_Command):
    command_type: Literal["RecordCompanyDecision"] = "RecordCompanyDecision"
    option_id: UUID | None = None
    declined_reason: Annotated[str, Field(max_length=4000)] | None = None


class ChangeCompanyStage(_Command):
    command_type: Literal["ChangeCompanyStage"] = "ChangeCompanyStage"
    company_stage: CompanyStage


class PutLeadOnHold(_Command):
    command_type: Literal["PutLeadOnHold"] = "PutLeadOnHold"
    reason: Text


class ResumeLead(_Command):
    command_type: Literal["ResumeLead"] = "ResumeLead"


class RecordOutcome(_Command):
    command_type: Literal["RecordOutcome"] = "RecordOutcome"
    code: OutcomeCode
    region: Region | None = None
    province: Province | None = None
    municipality: ShortText | None = None
    country: CountryCode | None = None
    investment_eur: Annotated[float, Field(ge=0)] | None = None
    jobs: Annotated[int, Field(ge=0)] | None = None
    explanation: Annotated[str, Field(max_length=4000)] | None = None


class ConfirmInvestment(_Command):
    command_type: Literal["ConfirmInvestment"] = "ConfirmInvestment"
    amount_eur: Annotated[float, Field(ge=0)]
    jobs: Annotated[int, Field(ge=0)] | None = None


class CloseLead(_Command):
    command_type: Literal["CloseLead"] = "CloseLead"
    reason: Annotated[str, Field(max_length=4000)] | None = None


class AddNote(_Command):
    command_type: Literal["AddNote"] = "AddNote"
    note_id: UUID
    text: Text


class DiscloseIdentity(_Command):
    command_type: Literal["DiscloseIdentity"] = "DiscloseIdentity"
    to_org: OrgSlug
    reason: Text


class AddCaseTeamMember(_Command):
    command_type: Literal["AddCaseTeamMember"] = "AddCaseTeamMember"
    org: OrgSlug
    reason: Annotated[str, Field(max_length=4000)] | None = None


class RemoveCaseTeamMember(_Command):
    command_type: Literal["RemoveCaseTeamMember"] = "RemoveCaseTeamMember"
    org: OrgSlug
    reason: Annotated[str, Field(max_length=4000)] | None = None


class AddContactPerson(_Command):
    """Record a contact person of the company; their personal data arrives sealed."""

    command_type: Literal["AddContactPerson"] = "AddContactPerson"
    person_id: UUID
    sealed: SealedPersonalData


class ErasePerson(_Command):
    """Erase a contact person's personal data (GDPR): recorded, then their key is deleted."""

    command_type: Literal["ErasePerson"] = "ErasePerson"
    person_id: UUID
    reason: Annotated[str, Field(max_length=4000)] | None = None


Command = Annotated[
    SignalLead
    | AmendLeadDetails
    | ArticulateDemand
    | ReviseDemand
    | CompleteArticulation
    | ProposeLocationOption
    | SendPartnerRequest
    | RespondToPartnerRequest
    | WithdrawPartnerRequest
    | RecordCompanyDecision
    | ChangeCompanyStage
    | PutLeadOnHold
    | ResumeLead
    | RecordOutcome
    | ConfirmInvestment
    | CloseLead
    | AddNote
    | DiscloseIdentity
    | AddCaseTeamMember
    | RemoveCaseTeamMember
    | AddContactPerson
    | ErasePerson,
    Field(discriminator="command_type"),
]


# System commands: issued by the lead's workflow on its own timers, never over HTTP.


class SendPartnerReminder(_Command):
    command_type: Literal["SendPartnerReminder"] = "SendPartnerReminder"
    request_id: UUID
    reminder_number: int = Field(ge=1)
    channels: list[str] = Field(default_factory=list)


class EscalatePartnerRequest(_Command):
    command_type: Literal["EscalatePartnerRequest"] = "EscalatePartnerRequest"
    request_id: UUID


class NudgeOwner(_Command):
    command_type: Literal["NudgeOwner"] = "NudgeOwner"
    inactive_days: int = Field(ge=0)


class RequestAftercare(_Command):
    command_type: Literal["RequestAftercare"] = "RequestAftercare"


class RecordDeliveryFailure(_Command):
    command_type: Literal["RecordDeliveryFailure"] = "RecordDeliveryFailure"
    delivery_id: str
    purpose: str
    request_id: UUID | None = None
    error: Annotated[str, Field(max_length=2000)]


SystemCommand = Annotated[
    SendPartnerReminder | EscalatePartnerRequest | NudgeOwner | RequestAftercare | RecordDeliveryFailure,
    Field(discriminator="command_type"),
]
