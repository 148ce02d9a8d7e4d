"""Contact persons of a lead's company: record one (sealed under its own key), erase one (GDPR)."""

from uuid import UUID

from fastapi import APIRouter, Response, status

from events import commands as cmd
from events.decide import allowed_stages
from events.errors import StageConflictError
from services.access import (
    Capability,
    ForbiddenError,
    LeadAccess,
    NotFoundError,
    require,
    require_lead,
    sees_identity,
)
from services.api.commands import RunnerDep
from services.api.schemas import CommandResponse, ContactCreate
from services.lead_reads import load_lead
from services.person_erasure import PersonEraser
from services.persons import PersonalData, PersonNotFoundError

router = APIRouter(prefix="/v1", tags=["contact persons"])


@router.post("/leads/{lead_id}/contacts", status_code=status.HTTP_201_CREATED)
async def add_contact_person(lead_id: UUID, body: ContactCreate, runner: RunnerDep) -> CommandResponse:
    """Record a contact person. Their name, e-mail, phone and job title are encrypted under a key of
    their own before they reach the workflow or the log; `DELETE /v1/persons/{person_id}` erases them."""
    state = require_lead(runner.user, await load_lead(runner.store, lead_id), LeadAccess.WRITE)
    if not sees_identity(runner.user, state):
        raise ForbiddenError("only those who may see the company's identity record its contact persons")
    if state.stage not in allowed_stages(cmd.AddContactPerson):  # refused before a key is made
        raise StageConflictError(
            f"AddContactPerson is not allowed while the lead is {state.stage.value}", state.stage
        )
    person_id = runner.new_id("person")
    personal = PersonalData.model_validate(body.model_dump(include=set(PersonalData.model_fields)))
    try:
        sealed = await runner.persons.seal(person_id, lead_id, personal)
    except PersonNotFoundError as error:
        raise NotFoundError(str(error)) from error
    command = cmd.AddContactPerson(person_id=person_id, sealed=sealed)
    return await runner.run(lead_id, command, body, person_id=person_id)


@router.delete("/persons/{person_id}", status_code=status.HTTP_204_NO_CONTENT)
async def erase_person(person_id: UUID, runner: RunnerDep) -> Response:
    """Erase a contact person's personal data: recorded as `PersonalDataErased` on the lead (reason in
    `X-Audit-Toelichting`), then their key is deleted. Histories keep the sealed bytes, so the hash
    chain still verifies, and show each field as `[erased]`. Repeating the request changes nothing."""
    require(runner.user, Capability.ERASE_PERSONS)
    try:
        lead_id = await runner.persons.lead_of(person_id)
    except PersonNotFoundError as error:
        raise NotFoundError(str(error)) from error
    state = require_lead(runner.user, await load_lead(runner.store, lead_id), LeadAccess.MANAGE)
    if state.contact(person_id) is None:
        await runner.persons.shred(person_id)  # a key whose contact was never recorded holds nothing
        raise NotFoundError("no contact person with this id")
    sent = runner.command_input(cmd.ErasePerson(person_id=person_id, reason=runner.reason), None)
    await PersonEraser(runner.store, runner.commands, runner.persons).erase(
        state, person_id, sent, runner.update_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
