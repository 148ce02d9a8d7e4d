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
    per_demand: bool = False  # one form per demand, told apart by its demand_id
    on_open_request: bool = False  # only while the lead has an open partner request
    changes_only: bool = False  # a prefilled form: send only what differs from the lead

    def form_id(self, form: Mapping[str, Any]) -> str:
        """Which form on the page was sent: the step, and for a per-demand step also the demand."""
        return f"{self.key}-{form.get('demand_id')}" if self.per_demand else self.key

    def api_path(self, lead_id: object, form: Mapping[str, Any]) -> str:
        """The API path: relative to the lead unless it starts with /v1/; ids in it come from the form."""
        ids = {name: str(form.get(name) or "onbekend") for name in ("demand_id", "request_id")}
        path = self.path.format(**ids)
        return path if path.startswith("/v1/") else f"/v1/leads/{lead_id}{path}"

    def body(self, form: Mapping[str, Any], getlist: Any) -> dict[str, Any]:
        """The JSON body for the API from a submitted form."""
        body: dict[str, Any] = {}
        for name, value in self.fixed.items():
            _put(body, name, value)
        for name in (*self.fields, "occurred_at"):
            value = _value(name, form, getlist)
            if value is not None:
                _put(body, name, value)
        return body


def _value(name: str, form: Mapping[str, Any], getlist: Any) -> Any:
    leaf = name.rsplit(".", 1)[-1]
    if leaf in LISTS:
        return [v for v in getlist(name) if v] or None
    raw = str(form.get(name, "")).strip()
    if not raw:
        return None
    if leaf in FLAGS:
        return True
    if leaf in COMMA_LISTS:
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


def _revision(kind: str) -> Action:
    spec = tuple(f"spec.{name}" for name in DEMAND_FIELDS[kind])
    return Action(
        f"vraag-herzien-{kind}", kind, "PUT", "/demands/{demand_id}", (*spec, "needed_by", "description"),
        "De ruimtevraag is herzien.", ARTICULATION, {"spec.kind": kind}, per_demand=True,
    )  # fmt: skip


AMEND_FIELDS = (
    "company.name", "company.kvk_number", "company.website", "province", "municipality", "domains",
    "life_phase", "summary", "needed_by", "investment_at_stake_eur", "jobs_at_stake", "foreign_alternative",
    "confidentiality",
)  # fmt: skip
_STEPS = (
    Action("gegevens", "Gegevens wijzigen", "PATCH", "", AMEND_FIELDS, "De gegevens zijn gewijzigd.", OPEN,
           changes_only=True),
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
    Action("verzoek-intrekken", "Verzoek aan een partner intrekken", "POST",
           "/partner-requests/{request_id}/withdraw", ("reason",), "Het verzoek is ingetrokken.",
           frozenset({"brokering"}), on_open_request=True),
    Action("partnerantwoord", "Antwoord van een partner vastleggen", "POST",
           "/v1/partner-requests/{request_id}/response", ("answer", "details.toelichting", "reason"),
           "Het antwoord van de partner is vastgelegd.", frozenset({"brokering"}), on_open_request=True),
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

# Contact persons: recorded while the case lives, shown in their own section of the lead page.
CONTACT = Action(
    "contactpersoon", "Contactpersoon toevoegen", "POST", "/contacts",
    ("name", "email", "phone", "job_title"),
    "De contactpersoon is toegevoegd.", OPEN | {"on_hold", "decided"},
)  # fmt: skip
ERASE_CONTACT = "persoon-wissen"  # a form of its own (services/web/pages/contacts.py), in every stage

_REVISIONS = tuple(_revision(kind) for kind in DEMAND_KINDS)
ACTIONS: dict[str, Action] = {
    a.key: a for a in (*(_demand(kind) for kind in DEMAND_KINDS), *_REVISIONS, *_STEPS, CONTACT)
}
DEMAND_ACTIONS = [ACTIONS[f"vraag-{kind}"] for kind in DEMAND_KINDS]
REVISION_ACTIONS = {a.fixed["spec.kind"]: a for a in _REVISIONS}
STEP_ACTIONS = list(_STEPS)

SIGNAL_FIELDS = (
    "company.name", "company.kvk_number", "company.website", "owner_org", "home_region", "province",
    "municipality", "domains", "company_stage", "life_phase", "summary", "needed_by",
    "investment_at_stake_eur", "jobs_at_stake", "foreign_alternative", "confidentiality",
)  # fmt: skip
SIGNAL = Action("signaleren", "Lead signaleren", "POST", "", SIGNAL_FIELDS, "De lead is gesignaleerd.", OPEN)
# What the lead page says after a step went through (`?gedaan=<key>`).
NOTICES = {
    SIGNAL.key: SIGNAL.done,
    ERASE_CONTACT: "De persoonsgegevens zijn gewist.",
    **{key: action.done for key, action in ACTIONS.items()},
}


def changed_only(body: Mapping[str, Any], lead: Mapping[str, Any]) -> dict[str, Any]:
    """An amendment from a prefilled form: only the fields that differ from the lead as it stands."""
    return {key: value for key, value in body.items() if not _same(value, lead.get(key))}


def _same(sent: Any, current: Any) -> bool:
    if isinstance(sent, dict) or isinstance(current, dict):
        sent, current = sent or {}, current or {}
        return all(_same(sent.get(key), current.get(key)) for key in {*sent, *current})
    if sent is None or current is None:
        return sent is None and current is None
    if isinstance(sent, list) or isinstance(current, list):
        return sorted(map(str, sent)) == sorted(map(str, current))
    if isinstance(current, int | float) and not isinstance(current, bool):
        try:
            return float(sent) == float(current)
        except ValueError:
            return False
    return str(sent) == str(current)


def prefilled(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A form's starting values from the API's JSON: no empty ones, comma lists joined, names prefixed."""
    shown: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == [] or isinstance(value, dict):
            continue
        shown[prefix + name] = ", ".join(value) if name in COMMA_LISTS else value
    return shown
