"""Invented companies for the demo data: plausible Dutch deeptech firms, none of them real."""

import random
from dataclasses import dataclass
from datetime import date

from events.reference import PROVINCE_REGION, Province

MUNICIPALITIES: dict[str, tuple[str, ...]] = {
    "groningen": ("Groningen", "Delfzijl", "Veendam"),
    "friesland": ("Leeuwarden", "Heerenveen", "Drachten"),
    "drenthe": ("Assen", "Emmen", "Hoogeveen"),
    "overijssel": ("Enschede", "Hengelo", "Zwolle", "Deventer"),
    "gelderland": ("Nijmegen", "Arnhem", "Wageningen", "Apeldoorn"),
    "utrecht": ("Utrecht", "Amersfoort", "Nieuwegein"),
    "flevoland": ("Almere", "Lelystad", "Zeewolde"),
    "noord-holland": ("Amsterdam", "Haarlem", "Hoofddorp", "Den Helder"),
    "zuid-holland": ("Delft", "Leiden", "Rotterdam", "Den Haag"),
    "zeeland": ("Vlissingen", "Terneuzen", "Goes"),
    "noord-brabant": ("Eindhoven", "Veldhoven", "Best", "Tilburg"),
    "limburg": ("Maastricht", "Venlo", "Sittard-Geleen", "Heerlen"),
}
OWNERS = {
    "groningen": "nom", "friesland": "nom", "drenthe": "nom",
    "overijssel": "oost-nl", "gelderland": "oost-nl",
    "utrecht": "rom-utrecht-region", "flevoland": "horizon-flevoland", "noord-holland": "rom-inwest",
    "zuid-holland": "innovationquarter", "zeeland": "impuls-zeeland",
    "noord-brabant": "bom", "limburg": "liof",
}  # fmt: skip
GRID_OPERATORS = {
    "noord": "enexis", "oost": "liander", "midden": "stedin", "west": "stedin", "zuid": "enexis",
}  # fmt: skip
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "photonics": (("Lichtwerk", "Fotonaut", "Glasvezel", "Spectra"), ("Fotonica", "Photonics", "Optics")),
    "quantum": (("Qubit", "Kwantum", "Coherent", "Spin"), ("Forge", "Labs", "Systems")),
    "process_technology": (("Delta", "Polder", "Flux", "Reactor"), ("Membranen", "Process", "Chemie")),
    "biomolecular_cell": (("Cel", "Eiwit", "Organoid", "Enzym"), ("Therapeutics", "Bio", "Cultures")),
    "imaging": (("Scherp", "Pixel", "Tomo", "Echo"), ("Imaging", "Vision", "Scan")),
    "mechatronics": (("Precisie", "Motion", "Nano", "Servo"), ("Mechatronics", "Stages", "Robotics")),
    "ai_data": (("Datapolder", "Neuron", "Inzicht", "Vector"), ("AI", "Analytics", "Intelligence")),
    "energy_materials": (("Zon", "Waterstof", "Elektrolyse", "Kathode"), ("Materials", "Energy", "Cells")),
    "semiconductors": (("Silicium", "Wafer", "Chip", "Litho"), ("Semiconductors", "Devices", "Foundry")),
    "cybersecurity": (("Schild", "Sleutel", "Crypto", "Vesting"), ("Security", "Defence", "Trust")),
    "strategic_other": (("Noordzee", "Kustlicht", "Veldwerk", "Dijk"), ("Pharma", "Defence Systems", "Tech")),
}
SUMMARIES = {
    "photonics": "Geïntegreerde fotonische chips voor datacenters; opschaling naar een eigen productielijn.",
    "quantum": "Cryogene componenten voor quantumcomputers; eerste klanten in de VS en Duitsland.",
    "process_technology": "Continue procestechnologie voor groene chemie; demonstratiefabriek gepland.",
    "biomolecular_cell": "Celtherapieplatform dat de stap naar GMP-productie zet.",
    "imaging": "Medische beeldvorming met nieuwe detectoren; van prototype naar serieproductie.",
    "mechatronics": "Nauwkeurige positioneersystemen voor de halfgeleiderindustrie.",
    "ai_data": "AI-modellen voor voorspellend onderhoud; groeit hard in personeel.",
    "energy_materials": "Elektrolysers en elektrodematerialen voor groene waterstof.",
    "semiconductors": "Vermogenshalfgeleiders op basis van galliumnitride; eigen cleanroom nodig.",
    "cybersecurity": "Post-quantumcryptografie voor kritieke infrastructuur.",
    "strategic_other": "Specialistische toelevering aan defensie en maritieme sector.",
}
FOREIGN = ("DE", "US", "BE", "FR", "GB", None, None)


@dataclass(frozen=True)
class Company:
    name: str
    kvk_number: str
    province: str
    region: str
    municipality: str
    owner_org: str
    domains: tuple[str, ...]
    company_stage: str
    life_phase: int
    summary: str
    investment_eur: float
    jobs: int
    foreign_alternative: str | None


def invent(rng: random.Random, index: int) -> Company:
    """One invented company; the same seed and index always give the same company."""
    domain = sorted(NAMES)[index % len(NAMES)]
    firsts, lasts = NAMES[domain]
    province = sorted(p.value for p in Province)[(index * 5) % 12]
    extra = rng.choice([d for d in NAMES if d != domain])
    return Company(
        name=f"{rng.choice(firsts)} {rng.choice(lasts)} B.V.",
        kvk_number=f"{rng.randrange(10_000_000, 99_999_999)}",
        province=province,
        region=PROVINCE_REGION[Province(province)].value,
        municipality=rng.choice(MUNICIPALITIES[province]),
        owner_org="nfia" if index % 9 == 4 else OWNERS[province],
        domains=(domain, extra) if rng.random() < 0.3 else (domain,),
        company_stage=rng.choice(("startup", "startup", "scale_up")),
        life_phase=rng.randint(2, 4),
        summary=SUMMARIES[domain],
        investment_eur=float(rng.randrange(8, 160) * 1_000_000),
        jobs=rng.randrange(40, 600, 10),
        foreign_alternative=rng.choice(FOREIGN),
    )


def demand_specs(rng: random.Random, company: Company, needed: date) -> list[dict[str, object]]:
    """One to three growth demands that fit the company."""
    specs: list[dict[str, object]] = [
        {"kind": "space", "floor_area_m2": rng.randrange(2, 30) * 500,
         "site_area_m2": rng.randrange(1, 8) * 5000, "cleanroom_iso_class": rng.choice([5, 6, 7, None]),
         "environmental_category": rng.choice(["3.2", "4.1", "4.2"]),
         "description": "Productiehal met cleanroom en ruimte om door te groeien"},
        {"kind": "energy", "grid_capacity_mva": rng.randrange(2, 40),
         "current_grid_operator": GRID_OPERATORS[company.region], "connection_needed_by": needed.isoformat(),
         "description": "Netaansluiting voor de nieuwe productielijn"},
        {"kind": "talent", "fte_mbo": rng.randrange(10, 80), "fte_hbo": rng.randrange(10, 60),
         "fte_wo": rng.randrange(5, 40), "profiles": ["procestechnoloog", "cleanroomoperator"],
         "description": "Technisch personeel binnen reisafstand"},
        {"kind": "financing", "amount_eur": company.investment_eur / 2,
         "instruments": ["invest_nl", "rom", "vff"],
         "description": "Groeifinanciering voor de opschaling"},
        {"kind": "housing_accessibility", "housing_units": rng.randrange(20, 200),
         "jobs_created": company.jobs,
         "description": "Woningen voor nieuwe medewerkers en OV-bereikbaarheid"},
        {"kind": "capital", "capex_eur": company.investment_eur, "facility_kind": "production_line",
         "shared_facility_acceptable": rng.random() < 0.5, "description": "Eerste productielijn"},
    ]  # fmt: skip
    chosen = [specs[0], *rng.sample(specs[1:], rng.randint(0, 2))]
    return [{key: value for key, value in spec.items() if value is not None} for spec in chosen]
