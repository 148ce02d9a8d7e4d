"""Dutch labels of the programme's codes, shared by the web UI and the reports."""

from events.reference import ORGANISATIONS

STAGES = {
    "signalled": "Gesignaleerd",
    "articulating": "Vraagarticulatie",
    "brokering": "Makelen en schakelen",
    "on_hold": "On hold",
    "decided": "Uitkomst bekend",
    "closed": "Afgesloten",
}
FUNNEL = {
    "signalled": "Gesignaleerd",
    "articulating": "Vraag gearticuleerd",
    "brokering": "Casusaanpak gestart",
    "decided": "Uitkomst vastgelegd",
    "closed": "Afgesloten",
}
REGIONS = {
    "noord": "Noord",
    "oost": "Oost",
    "midden": "Midden",
    "west": "West",
    "zuid": "Zuid",
    "abroad": "Buitenland",
}
PROVINCES = {
    "groningen": "Groningen",
    "friesland": "Friesland",
    "drenthe": "Drenthe",
    "overijssel": "Overijssel",
    "gelderland": "Gelderland",
    "utrecht": "Utrecht",
    "flevoland": "Flevoland",
    "noord-holland": "Noord-Holland",
    "zuid-holland": "Zuid-Holland",
    "zeeland": "Zeeland",
    "noord-brabant": "Noord-Brabant",
    "limburg": "Limburg",
}
DOMAINS = {
    "photonics": "Optische systemen en geïntegreerde fotonica",
    "quantum": "Quantumtechnologie",
    "process_technology": "Procestechnologie",
    "biomolecular_cell": "Biomoleculaire en celtechnologie",
    "imaging": "Beeldvormende technologie",
    "mechatronics": "Mechatronica en opto-mechatronica",
    "ai_data": "AI en datawetenschap",
    "energy_materials": "Energiematerialen",
    "semiconductors": "Halfgeleidertechnologie",
    "cybersecurity": "Cybersecuritytechnologie",
    "strategic_other": "Overig strategisch",
}
DEMAND_KINDS = {
    "space": "Ruimte",
    "capital": "Kapitaal",
    "talent": "Talent",
    "housing_accessibility": "Wonen en bereikbaarheid",
    "energy": "Energie",
    "financing": "Financiering",
}
SPEC_FIELDS = {
    "floor_area_m2": "vloer m²", "site_area_m2": "kavel m²", "cleanroom_iso_class": "cleanroom ISO",
    "vibration_free_floor": "trillingsvrij", "heavy_logistics": "zware logistiek",
    "environmental_category": "milieucategorie", "capex_eur": "investering EUR",
    "facility_kind": "faciliteit", "shared_facility_acceptable": "gedeeld mag",
    "fte_mbo": "fte mbo", "fte_hbo": "fte hbo", "fte_wo": "fte wo", "profiles": "profielen",
    "housing_units": "woningen", "jobs_created": "banen", "transport_needs": "vervoer",
    "mirt_escalation": "MIRT", "grid_capacity_mva": "MVA", "connection_needed_by": "aansluiting op",
    "current_grid_operator": "netbeheerder", "amount_eur": "bedrag EUR", "ticket_size_eur": "ticket EUR",
    "instruments": "instrumenten",
}  # fmt: skip
DEMAND_STATUSES = {"open": "Open", "matched": "Match", "resolved": "Opgelost", "unresolved": "Onopgelost"}
OUTCOMES = {
    "realised_other_region": "Gerealiseerd in een andere regio",
    "realised_own_region": "Gerealiseerd in de eigen regio",
    "left_abroad": "Naar het buitenland vertrokken",
    "no_proposition": "Nergens in Nederland een propositie",
    "withdrawn": "Teruggetrokken",
}
COMPANY_STAGES = {"startup": "Startup", "scale_up": "Scale-up", "grown_up": "Grown-up"}
FIGURES = {
    "leads_in_portfolio": "Leads in portefeuille",
    "case_approaches_started": "Casusaanpakken gestart",
    "realised_other_region": "Gerealiseerd in een andere regio",
    "new_scale_ups": "Nieuwe scale-ups (van de elders gerealiseerde)",
    "retained_investment_eur": "Behouden investering (EUR)",
}
ROLES = {
    "taskforce": "Taskforce",
    "coordinator": "Coördinator",
    "partner": "Partner",
    "auditor": "Auditor",
    "ministry": "Ministerie",
    "admin": "Beheerder",
}
EVENTS = {
    "LeadSignalled": "Lead gesignaleerd",
    "LeadDetailsAmended": "Gegevens aangepast",
    "DemandArticulated": "Ruimtevraag vastgelegd",
    "DemandRevised": "Ruimtevraag herzien",
    "DemandStatusChanged": "Status ruimtevraag gewijzigd",
    "ArticulationCompleted": "Vraagarticulatie afgerond, casusaanpak gestart",
    "LocationOptionProposed": "Locatieoptie voorgesteld",
    "PartnerRequestSent": "Verzoek aan partner verstuurd",
    "PartnerReminderSent": "Herinnering aan partner verstuurd",
    "PartnerRequestEscalated": "Verzoek geëscaleerd naar de coördinator",
    "PartnerResponded": "Partner heeft geantwoord",
    "PartnerRequestWithdrawn": "Verzoek ingetrokken",
    "CompanyDecisionRecorded": "Besluit van het bedrijf vastgelegd",
    "CompanyStageChanged": "Bedrijfsfase gewijzigd",
    "LeadPutOnHold": "On hold gezet",
    "LeadResumed": "Hervat",
    "OutcomeRecorded": "Uitkomst vastgelegd",
    "InvestmentConfirmed": "Investering bevestigd",
    "LeadClosed": "Afgesloten",
    "NoteAdded": "Notitie toegevoegd",
    "IdentityDisclosed": "Identiteit gedeeld",
    "OwnerNudged": "Eigenaar herinnerd (casus lag stil)",
    "AftercareRequested": "Nazorg gevraagd",
    "NotificationDeliveryFailed": "Bericht kon niet worden bezorgd",
}


def organisation(slug: str | None) -> str:
    """The organisation's display name, or the slug itself when it is not in the reference data."""
    if not slug:
        return "—"
    entry = ORGANISATIONS.get(slug)
    return entry[0] if entry else slug


def label(table: dict[str, str], code: object) -> str:
    if code is None:
        return "—"
    return table.get(str(code), str(code))
