"""Reference data of the programme (DESIGN §2), version 1.

One versioned module instead of scattered literals; migrations seed the `reference_*` tables from it.
"""

from enum import StrEnum

REFERENCE_DATA_VERSION = 1


class Region(StrEnum):
    NOORD = "noord"
    OOST = "oost"
    MIDDEN = "midden"
    WEST = "west"
    ZUID = "zuid"


class Province(StrEnum):
    GRONINGEN = "groningen"
    FRIESLAND = "friesland"
    DRENTHE = "drenthe"
    OVERIJSSEL = "overijssel"
    GELDERLAND = "gelderland"
    UTRECHT = "utrecht"
    FLEVOLAND = "flevoland"
    NOORD_HOLLAND = "noord-holland"
    ZUID_HOLLAND = "zuid-holland"
    ZEELAND = "zeeland"
    NOORD_BRABANT = "noord-brabant"
    LIMBURG = "limburg"


PROVINCE_REGION: dict[Province, Region] = {
    Province.GRONINGEN: Region.NOORD,
    Province.FRIESLAND: Region.NOORD,
    Province.DRENTHE: Region.NOORD,
    Province.OVERIJSSEL: Region.OOST,
    Province.GELDERLAND: Region.OOST,
    Province.UTRECHT: Region.MIDDEN,
    Province.FLEVOLAND: Region.MIDDEN,
    Province.NOORD_HOLLAND: Region.WEST,
    Province.ZUID_HOLLAND: Region.WEST,
    Province.ZEELAND: Region.WEST,
    Province.NOORD_BRABANT: Region.ZUID,
    Province.LIMBURG: Region.ZUID,
}


class Domain(StrEnum):
    """Technology domains of the Nationale Technologiestrategie, plus strategic_other."""

    PHOTONICS = "photonics"
    QUANTUM = "quantum"
    PROCESS_TECHNOLOGY = "process_technology"
    BIOMOLECULAR_CELL = "biomolecular_cell"
    IMAGING = "imaging"
    MECHATRONICS = "mechatronics"
    AI_DATA = "ai_data"
    ENERGY_MATERIALS = "energy_materials"
    SEMICONDUCTORS = "semiconductors"
    CYBERSECURITY = "cybersecurity"
    STRATEGIC_OTHER = "strategic_other"


class CompanyStage(StrEnum):
    STARTUP = "startup"
    SCALE_UP = "scale_up"
    GROWN_UP = "grown_up"


class Confidentiality(StrEnum):
    """The Dutch government classification scale, lowest to highest."""

    OPENBAAR = "openbaar"
    BEPERKT_OPENBAAR = "beperkt_openbaar"
    INTERN = "intern"
    ZAAKVERTROUWELIJK = "zaakvertrouwelijk"
    VERTROUWELIJK = "vertrouwelijk"
    CONFIDENTIEEL = "confidentieel"
    GEHEIM = "geheim"
    ZEER_GEHEIM = "zeer_geheim"


class OutcomeCode(StrEnum):
    REALISED_OTHER_REGION = "realised_other_region"
    REALISED_OWN_REGION = "realised_own_region"
    LEFT_ABROAD = "left_abroad"
    NO_PROPOSITION = "no_proposition"
    WITHDRAWN = "withdrawn"


REALISED_OUTCOMES = frozenset({OutcomeCode.REALISED_OTHER_REGION, OutcomeCode.REALISED_OWN_REGION})


class OrganisationKind(StrEnum):
    PROVINCE = "province"
    MUNICIPALITY = "municipality"
    GRID_OPERATOR = "grid_operator"
    ROM = "rom"
    NFIA = "nfia"
    INVEST_NL = "invest_nl"
    TRIPLE_HELIX = "triple_helix"
    MINISTRY = "ministry"
    OTHER = "other"


# slug -> (display name, kind, region or None for national parties)
ORGANISATIONS: dict[str, tuple[str, OrganisationKind, Region | None]] = {
    "nom": ("NOM", OrganisationKind.ROM, Region.NOORD),
    "oost-nl": ("Oost NL", OrganisationKind.ROM, Region.OOST),
    "rom-utrecht-region": ("ROM Utrecht Region", OrganisationKind.ROM, Region.MIDDEN),
    "horizon-flevoland": ("Horizon Flevoland", OrganisationKind.ROM, Region.MIDDEN),
    "rom-inwest": ("ROM InWest", OrganisationKind.ROM, Region.WEST),
    "innovationquarter": ("InnovationQuarter", OrganisationKind.ROM, Region.WEST),
    "impuls-zeeland": ("Impuls Zeeland", OrganisationKind.ROM, Region.WEST),
    "bom": ("BOM", OrganisationKind.ROM, Region.ZUID),
    "liof": ("LIOF", OrganisationKind.ROM, Region.ZUID),
    "nfia": ("NFIA", OrganisationKind.NFIA, None),
    "invest-nl": ("Invest-NL", OrganisationKind.INVEST_NL, None),
    "ministerie-ez": ("Ministerie van Economische Zaken", OrganisationKind.MINISTRY, None),
    "tennet": ("TenneT", OrganisationKind.GRID_OPERATOR, None),
    "liander": ("Liander", OrganisationKind.GRID_OPERATOR, None),
    "stedin": ("Stedin", OrganisationKind.GRID_OPERATOR, None),
    "enexis": ("Enexis", OrganisationKind.GRID_OPERATOR, None),
    "westland-infra": ("Westland Infra", OrganisationKind.GRID_OPERATOR, Region.WEST),
    "rendo": ("Rendo", OrganisationKind.GRID_OPERATOR, Region.NOORD),
    "coteq": ("Coteq", OrganisationKind.GRID_OPERATOR, Region.OOST),
    "brainport-development": ("Brainport Development", OrganisationKind.TRIPLE_HELIX, Region.ZUID),
    "campus-groningen": ("Campus Groningen", OrganisationKind.TRIPLE_HELIX, Region.NOORD),
    "twente-board": ("Twente Board", OrganisationKind.TRIPLE_HELIX, Region.OOST),
} | {
    f"provincie-{province.value}": (
        f"Provincie {province.value.replace('-', ' ').title()}",
        OrganisationKind.PROVINCE,
        region,
    )
    for province, region in PROVINCE_REGION.items()
}

GRID_OPERATORS = frozenset(
    slug for slug, (_, kind, _) in ORGANISATIONS.items() if kind is OrganisationKind.GRID_OPERATOR
)


def is_known_organisation(slug: str) -> bool:
    """True when the slug names an organisation of the programme's registry."""
    return slug in ORGANISATIONS
