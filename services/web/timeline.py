"""One line of Dutch per event of a lead's history, for the timeline on the lead page."""

from collections.abc import Callable
from typing import Any

from services.reports import labels
from services.web.charts.svg import euros

Summary = Callable[[dict[str, Any]], str]
ERASED = "[erased]"  # how the API shows a field of an erased person
TITLES = {
    **labels.EVENTS,
    "ContactPersonAdded": "Contactpersoon toegevoegd",
    "PersonalDataErased": "Persoonsgegevens van een contactpersoon gewist (AVG)",
}


def _demand(data: dict[str, Any]) -> str:
    spec = data.get("spec") or {}
    return labels.label(labels.DEMAND_KINDS, spec.get("kind"))


def _status(data: dict[str, Any]) -> str:
    status = labels.label(labels.DEMAND_STATUSES, data.get("to_status"))
    return f"{status}: {data['reason']}" if data.get("reason") else status


def _option(data: dict[str, Any]) -> str:
    parts = [data.get("site"), data.get("municipality"), labels.label(labels.REGIONS, data.get("region"))]
    return ", ".join(str(part) for part in parts if part)


def _request(data: dict[str, Any]) -> str:
    return f"{labels.organisation(data.get('partner_id'))}, antwoord uiterlijk {data.get('due_date', '—')}"


def _answer(data: dict[str, Any]) -> str:
    answer = "aanbod" if data.get("answer") == "offer" else "afgewezen"
    return f"{answer}{': ' + data['reason'] if data.get('reason') else ''}"


def _outcome(data: dict[str, Any]) -> str:
    parts = [labels.label(labels.OUTCOMES, data.get("code"))]
    if data.get("region"):
        parts.append(labels.label(labels.REGIONS, data["region"]))
    if data.get("investment_eur") is not None:
        parts.append(euros(data["investment_eur"]))
    if data.get("jobs") is not None:
        parts.append(f"{data['jobs']} banen")
    return ", ".join(parts)


def _contact(data: dict[str, Any]) -> str:
    """The person's name and job title; nothing for who may not see them; "gewist" once erased."""
    personal = data.get("personal_data") or {}
    if personal.get("name") == ERASED:
        return "gegevens gewist (AVG)"
    parts = [personal.get("name"), personal.get("job_title")]
    return ", ".join(str(part) for part in parts if part)


SUMMARIES: dict[str, Summary] = {
    "ContactPersonAdded": _contact,
    "DemandArticulated": _demand,
    "DemandStatusChanged": _status,
    "LocationOptionProposed": _option,
    "PartnerRequestSent": _request,
    "PartnerReminderSent": lambda d: f"herinnering {d.get('reminder_number', '')}",
    "PartnerResponded": _answer,
    "CompanyStageChanged": lambda d: labels.label(labels.COMPANY_STAGES, d.get("to_stage")),
    "LeadPutOnHold": lambda d: str(d.get("reason") or ""),
    "OutcomeRecorded": _outcome,
    "InvestmentConfirmed": lambda d: euros(d.get("amount_eur")),
    "NoteAdded": lambda d: str(d.get("text") or ""),
    "IdentityDisclosed": lambda d: f"aan {labels.organisation(d.get('to_org'))}",
    "CompanyDecisionRecorded": lambda d: (
        f"afgewezen: {d['declined_reason']}" if d.get("declined_reason") else "optie gekozen"
    ),
    "LeadClosed": lambda d: str(d.get("reason") or ""),
    "OwnerNudged": lambda d: f"{d.get('inactive_days', '?')} dagen geen activiteit",
    "PartnerRequestEscalated": lambda d: f"na {d.get('reminders_sent', '?')} herinnering(en)",
}


def timeline(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first by business time (back-dated steps fall into place): what, when, by whom, why."""
    entries = []
    for event in sorted(events, key=lambda e: (e["occurred_at"], e["position"]), reverse=True):
        metadata = event.get("metadata") or {}
        actor = metadata.get("actor") or {}
        summary = SUMMARIES.get(event["type"])
        entries.append(
            {
                "type": event["type"],
                "title": labels.label(TITLES, event["type"]),
                "summary": summary(event.get("data") or {}) if summary else "",
                "occurred_at": event["occurred_at"],
                "recorded_at": event["recorded_at"],
                "actor": actor,
                "reason": metadata.get("reason"),
            }
        )
    return entries
