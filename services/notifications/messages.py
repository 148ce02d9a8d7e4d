"""The Dutch texts of notifications. A company is named only where its identity was disclosed."""

from dataclasses import dataclass

from events.state import LeadState, PartnerRequest
from workflows.payloads import DeliveryInput

KIND_NAMES = {
    "space": "ruimte",
    "capital": "kapitaal",
    "talent": "talent",
    "housing_accessibility": "wonen en bereikbaarheid",
    "energy": "energie",
    "financing": "financiering",
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def lead_label(state: LeadState, recipient_org: str | None) -> str:
    """The code name, with the company's name only for an organisation it was disclosed to."""
    if recipient_org is not None and recipient_org in state.disclosed_to:
        return f"{state.code_name} ({state.details.company.name})"
    return state.code_name


def _kinds(state: LeadState, request: PartnerRequest) -> str:
    kinds = {d.spec.kind for d in state.demands if d.demand_id in request.demand_ids}
    return ", ".join(KIND_NAMES[k] for k in sorted(kinds)) or "algemeen"


FOOTER = (
    "\n\nDit bericht is automatisch verstuurd door groeiruimte. "
    "Beantwoorden kan via de API of de webapplicatie."
)
REQUEST_FACTS = (
    "Casus: {label}\nRegio: {region}\nVraag over: {kinds}\nVraag: {question}\n"
    "Gevraagd antwoord uiterlijk: {due}\nVerzoek: {link}"
)
ESCALATION = "Beste coördinator,\n\nPartner {partner} heeft na {count} herinnering(en) niet geantwoord.\n\n"
NUDGE = "Beste collega,\n\nIn casus {label} is al geruime tijd niets vastgelegd. Is er nieuws?"
AFTERCARE = (
    "Beste collega,\n\nVoor casus {label} is de uitkomst vastgelegd. Wilt u de daadwerkelijk "
    "gerealiseerde investering bevestigen via {link}?"
)


def compose(
    delivery: DeliveryInput,
    state: LeadState,
    request: PartnerRequest | None,
    recipient_org: str | None,
    api_url: str,
) -> Message:
    """Subject and body for one recipient organisation (None: the coordinator)."""
    label = lead_label(state, recipient_org)
    if delivery.purpose == "nudge":
        return Message(f"Casus {label} ligt stil", NUDGE.format(label=label) + FOOTER)
    if delivery.purpose == "aftercare":
        link = f"{api_url}/v1/leads/{state.lead_id}/investment-confirmation"
        return Message(
            f"Nazorg: bevestig de investering van {label}", AFTERCARE.format(label=label, link=link) + FOOTER
        )
    assert request is not None
    facts = REQUEST_FACTS.format(
        label=label,
        region=state.details.home_region.value,
        kinds=_kinds(state, request),
        question=request.question,
        due=request.due_date.isoformat(),
        link=f"{api_url}/v1/partner-requests/{request.request_id}",
    )
    if delivery.purpose == "request":
        return Message(f"Nieuw verzoek van de taskforce: {label}", f"Beste partner,\n\n{facts}{FOOTER}")
    if delivery.purpose == "reminder":
        subject = f"Herinnering {delivery.reminder_number}: verzoek over {label}"
        return Message(
            subject, f"Beste partner,\n\nWe hebben uw antwoord nog niet ontvangen.\n\n{facts}{FOOTER}"
        )
    intro = ESCALATION.format(partner=request.partner_id, count=request.reminders_sent)
    return Message(f"Escalatie: geen antwoord van {request.partner_id} over {label}", intro + facts + FOOTER)
