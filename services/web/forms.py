"""The lead's steps as forms: which API call each makes and which form fields it passes on.

Values go to the API as typed (the API validates and explains); the UI only drops empty fields, nests
dotted names (`company.name`), gathers multi-valued fields into lists and turns a date into a moment.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.projections.monitoring import DEMAND_KINDS

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
OPEN = frozenset({"signalled", "articulating", "brokering"})
ARTICULATION = frozenset({"signalled", "articulating", "brokering"})
DEMAND_FIELDS: dict[str, tuple[str, ...]] = {
    "space": ("floor_area_m2", "site_area_m2", "cleanroom_iso_class", "environmental_category",
              "vibration_free_floor", "heavy_logistics"),
    "capital": ("capex_eur", "facility_kind", "shared_facility_acceptable"),
    "talent": ("fte_mbo", "fte_hbo", "fte_wo", "profiles"),
    "housing_accessibility": ("housing_units", "jobs_created", "transport_needs", "mirt_escalation"),
    "energy": ("grid_capacity_mva", "connection_needed_by", "current_grid_operator"),
    "financing": ("amount_eur", "ticket_size_eur", "instruments"),
}  # fmt: skip
FLAGS = frozenset(
    {"vibration_free_floor", "heavy_logistics", "shared_facility_acceptable", "mirt_escalation"}
)
LISTS = frozenset({"demand_ids", "domains", "instruments"})
COMMA_LISTS = frozenset({"profiles"})


@dataclass(frozen=True)
class Action:
    key: str
    title: str
    method: str
    path: str  # relative to /v1/leads/{lead_id}
    fields: tuple[str, ...]
    done: str
    stages: frozenset[str]
    fixed: Mapping[str, str] = field(default_factory=dict)

    def body(self, form: Mapping[str, Any], getlist: Any) -> dict[str, Any]:
        """The JSON body for the API from a submitted form."""
        body: dict[str, Any] = dict(self.fixed)
        for name in (*self.fields, "occurred_at"):
            value = _value(name, form, getlist)
            if value is not None:
                _put(body, name, value)
        return body


def _value(name: str, form: Mapping[str, Any], getlist: Any) -> Any:
    if name in LISTS:
        return [v for v in getlist(name) if v] or None
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    if name in FLAGS:
        return True
    if name in COMMA_LISTS:
        return [part.strip() for part in raw.split(",") if part.strip()]
    if name == "occurred_at" and _DATE.match(raw):
        return f"{raw}T12:00:00Z"
    return raw


def _put(body: dict[str, Any], name: str, value: Any) -> None:
    *parents, leaf = name.split(".")
    for parent in parents:
        body = body.setdefault(parent, {})
    body[leaf] = value


def _demand(kind: str) -> Action:
    return Action(
        f"vraag-{kind}", kind, "POST", "/demands", (*DEMAND_FIELDS[kind], "needed_by", "description"),
        "De ruimtevraag is vastgelegd.", ARTICULATION, {"kind": kind},
    )  # fmt: skip


_STEPS = (
    Action("vraagstatus", "Status van een ruimtevraag", "PUT", "/demands/{demand_id}",
           ("status", "status_reason"), "De status van de ruimtevraag is gewijzigd.",
           frozenset({"articulating", "brokering"})),
    Action("articulatie-afronden", "Vraagarticulatie afronden en casusaanpak starten", "POST",
           "/articulation/complete", (), "De casusaanpak is gestart.",
           frozenset({"signalled", "articulating"})),
    Action("optie", "Locatieoptie voorstellen", "POST", "/options",
           ("region", "province", "municipality", "site", "demand_ids"), "De locatieoptie is vastgelegd.",
           frozenset({"brokering"})),
    Action("partnerverzoek", "Verzoek aan een partner", "POST", "/partner-requests",
           ("partner_id", "demand_ids", "question", "due_date"), "Het verzoek is verstuurd.",
           frozenset({"brokering"})),
    Action("bedrijfsfase", "Bedrijfsfase wijzigen", "POST", "/company-stage", ("company_stage",),
           "De bedrijfsfase is gewijzigd.", OPEN),
    Action("besluit", "Besluit van het bedrijf", "POST", "/decision", ("option_id", "declined_reason"),
           "Het besluit is vastgelegd.", frozenset({"brokering"})),
    Action("uitkomst", "Uitkomst vastleggen", "POST", "/outcome",
           ("code", "region", "province", "municipality", "country", "investment_eur", "jobs", "explanation"),
           "De uitkomst is vastgelegd.", OPEN | {"on_hold"}),
    Action("investering", "Investering bevestigen (nazorg)", "POST", "/investment-confirmation",
           ("amount_eur", "jobs"), "De investering is bevestigd.", frozenset({"decided"})),
    Action("hold", "On hold zetten", "POST", "/hold", ("reason",), "De lead staat on hold.", OPEN),
    Action("hervatten", "Hervatten", "POST", "/resume", (), "De lead is hervat.", frozenset({"on_hold"})),
    Action("identiteit", "Identiteit delen met een organisatie", "POST", "/identity-disclosures",
           ("to_org", "reason"), "De identiteit is gedeeld.", OPEN | {"on_hold", "decided"}),
    Action("notitie", "Notitie toevoegen", "POST", "/notes", ("text",), "De notitie is toegevoegd.",
           OPEN | {"on_hold", "decided"}),
    Action("afsluiten", "Afsluiten", "POST", "/close", ("reason",), "De lead is afgesloten.",
           frozenset({"decided"})),
)  # fmt: skip

ACTIONS: dict[str, Action] = {a.key: a for a in (*(_demand(kind) for kind in DEMAND_KINDS), *_STEPS)}
DEMAND_ACTIONS = [ACTIONS[f"vraag-{kind}"] for kind in DEMAND_KINDS]
STEP_ACTIONS = list(_STEPS)

SIGNAL_FIELDS = (
    "company.name", "company.kvk_number", "company.website", "owner_org", "home_region", "province",
    "municipality", "domains", "company_stage", "life_phase", "summary", "needed_by",
    "investment_at_stake_eur", "jobs_at_stake", "foreign_alternative", "confidentiality",
)  # fmt: skip
SIGNAL = Action("signaleren", "Lead signaleren", "POST", "", SIGNAL_FIELDS, "De lead is gesignaleerd.", OPEN)
