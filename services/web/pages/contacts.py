"""Erasing a contact person's personal data (GDPR) from the lead page: a reason and a confirmation, then
`DELETE /v1/persons/{person_id}` with the reason as `X-Audit-Toelichting`.

Adding a contact person is one of the lead's steps (services/web/forms.py `CONTACT`).
"""

from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from services.web.client import ApiDep, Problem
from services.web.forms import ERASE_CONTACT
from services.web.pages.lead import lead_context
from services.web.rendering import error_page, render
from services.web.session import CsrfChecked, SessionDep, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
CONFIRMATION = "bevestigd"


def unconfirmed(reason: str, confirmed: bool) -> Problem | None:
    """What is missing before personal data may be erased: a reason for the audit and a confirmation."""
    fields = {}
    if not reason:
        fields["toelichting"] = "Verplicht veld: waarom worden de gegevens gewist?"
    if not confirmed:
        fields[CONFIRMATION] = "Vink aan dat u deze persoonsgegevens definitief wilt wissen"
    if not fields:
        return None
    return Problem(422, "Controleer de invoer", "; ".join(fields.values()), fields)


@router.post("/ui/leads/{lead_id}/contactpersonen/{person_id}/wissen", dependencies=[CsrfChecked])
async def erase_contact(
    request: Request, lead_id: UUID, person_id: UUID, session: SessionDep, api: ApiDep
) -> Response:
    """Erase through the API; on a refusal show the page again with the reasons at this person's form."""
    form = await request.form()
    reason = str(form.get("toelichting") or "").strip()
    problem = unconfirmed(reason, form.get(CONFIRMATION) == "on")
    if problem is None:
        answer = await api.send("DELETE", f"/v1/persons/{person_id}", None, reason=reason)
        if answer.problem is None:
            return RedirectResponse(f"/ui/leads/{lead_id}?gedaan={ERASE_CONTACT}#contactpersonen", 303)
        problem = answer.problem
    context = await lead_context(api, session, lead_id)
    if isinstance(context, Problem):
        return error_page(request, context.status, context.title, context.detail)
    failed = f"{ERASE_CONTACT}-{person_id}"
    context |= {"failed": failed, "problem": problem, "values": {"toelichting": reason}}
    return render(request, "lead.html", context, problem.status)
