"""Value objects of a lead: the company and the details recorded when it is signalled."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from events.reference import CompanyStage, Confidentiality, Domain, Province, Region

Text = Annotated[str, Field(min_length=1, max_length=4000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
OrgSlug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class Company(BaseModel):
    """The company behind a lead; under NDA, shown only where its identity is disclosed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ShortText
    kvk_number: Annotated[str, Field(pattern=r"^[0-9]{8}$")] | None = None
    website: Annotated[str, Field(max_length=300)] | None = None


class LeadDetails(BaseModel):
    """Everything recorded about a lead when it is signalled; amendable later."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    company: Company
    owner_org: OrgSlug
    home_region: Region
    province: Province | None = None
    municipality: ShortText | None = None
    domains: list[Domain] = Field(default_factory=list, max_length=11)
    company_stage: CompanyStage = CompanyStage.STARTUP
    life_phase: Annotated[int, Field(ge=1, le=4)] | None = None
    summary: Annotated[str, Field(max_length=4000)] | None = None
    needed_by: date | None = None
    investment_at_stake_eur: Annotated[float, Field(ge=0)] | None = None
    jobs_at_stake: Annotated[int, Field(ge=0)] | None = None
    foreign_alternative: CountryCode | None = None
    confidentiality: Confidentiality = Confidentiality.VERTROUWELIJK


class LeadDetailsChanges(BaseModel):
    """A partial amendment of a lead's details; only the fields given change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    company: Company | None = None
    province: Province | None = None
    municipality: ShortText | None = None
    domains: list[Domain] | None = None
    life_phase: Annotated[int, Field(ge=1, le=4)] | None = None
    summary: Annotated[str, Field(max_length=4000)] | None = None
    needed_by: date | None = None
    investment_at_stake_eur: Annotated[float, Field(ge=0)] | None = None
    jobs_at_stake: Annotated[int, Field(ge=0)] | None = None
    foreign_alternative: CountryCode | None = None
    confidentiality: Confidentiality | None = None
