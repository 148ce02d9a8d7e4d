"""Growth demands (ruimtevragen): one specification model per demand kind (DESIGN §3)."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class DemandStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"


# Allowed status moves; a matched demand may fall back to open when the match falls through.
DEMAND_STATUS_MOVES: dict[DemandStatus, frozenset[DemandStatus]] = {
    DemandStatus.OPEN: frozenset({DemandStatus.MATCHED, DemandStatus.UNRESOLVED}),
    DemandStatus.MATCHED: frozenset({DemandStatus.OPEN, DemandStatus.RESOLVED, DemandStatus.UNRESOLVED}),
    DemandStatus.RESOLVED: frozenset(),
    DemandStatus.UNRESOLVED: frozenset(),
}

PositiveAmount = Annotated[float, Field(ge=0)]
PositiveCount = Annotated[int, Field(ge=0)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SpaceSpec(_Spec):
    """Ruimte-intensief: floor and site area, cleanroom, vibration, logistics, milieucategorie."""

    kind: Literal["space"] = "space"
    floor_area_m2: PositiveAmount | None = None
    site_area_m2: PositiveAmount | None = None
    cleanroom_iso_class: Annotated[int, Field(ge=1, le=9)] | None = None
    vibration_free_floor: bool | None = None
    heavy_logistics: bool | None = None
    environmental_category: Annotated[str, Field(pattern=r"^[1-6](\.[1-2])?$")] | None = None


class FacilityKind(StrEnum):
    CLEANROOM = "cleanroom"
    PRODUCTION_LINE = "production_line"
    STORAGE = "storage"
    OTHER = "other"


class CapitalSpec(_Spec):
    """Kapitaalintensief: capex and the kind of facility, shared use acceptable or not."""

    kind: Literal["capital"] = "capital"
    capex_eur: PositiveAmount | None = None
    facility_kind: FacilityKind | None = None
    shared_facility_acceptable: bool | None = None


class TalentSpec(_Spec):
    """Talentintensief: FTE by education level and the profiles sought."""

    kind: Literal["talent"] = "talent"
    fte_mbo: PositiveAmount | None = None
    fte_hbo: PositiveAmount | None = None
    fte_wo: PositiveAmount | None = None
    profiles: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=50)


class HousingAccessibilitySpec(_Spec):
    """Wonen en bereikbaarheid: housing, jobs created, transport, MIRT escalation."""

    kind: Literal["housing_accessibility"] = "housing_accessibility"
    housing_units: PositiveCount | None = None
    jobs_created: PositiveCount | None = None
    transport_needs: Annotated[str, Field(max_length=2000)] | None = None
    mirt_escalation: bool | None = None


class EnergySpec(_Spec):
    """Energie-intensief: grid capacity and when the connection is needed."""

    kind: Literal["energy"] = "energy"
    grid_capacity_mva: PositiveAmount | None = None
    connection_needed_by: date | None = None
    current_grid_operator: (
        Literal["tennet", "liander", "stedin", "enexis", "westland-infra", "rendo", "coteq"] | None
    ) = None


class FinancingInstrument(StrEnum):
    VFF = "vff"
    INNOVATIEKREDIET = "innovatiekrediet"
    WBSO = "wbso"
    INNOVATIEBOX = "innovatiebox"
    ROM = "rom"
    INVEST_NL = "invest_nl"
    EIB = "eib"
    PENSION_FUNDS = "pension_funds"


class FinancingSpec(_Spec):
    """Mandje voor financiering: amount, ticket size and instruments considered."""

    kind: Literal["financing"] = "financing"
    amount_eur: PositiveAmount | None = None
    ticket_size_eur: PositiveAmount | None = None
    instruments: list[FinancingInstrument] = Field(default_factory=list, max_length=20)


DemandSpec = Annotated[
    SpaceSpec | CapitalSpec | TalentSpec | HousingAccessibilitySpec | EnergySpec | FinancingSpec,
    Field(discriminator="kind"),
]
