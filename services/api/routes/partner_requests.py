"""A partner's inbox and its answers (DESIGN §6)."""

from uuid import UUID

from fastapi import APIRouter

from events import commands as cmd
from services.access import Capability, NotFoundError, require, require_partner_answer
from services.api.commands import RunnerDep
from services.api.deps import ContainerDep
from services.api.schemas import PartnerAnswerPublic, PartnerResponseCreate
from services.audit.read_logging import LoggedReadDep, LoggedReadRoute
from services.lead_reads import load_lead
from services.projections.queries import PartnerRequestRow, find_partner_request, partner_inbox

router = APIRouter(prefix="/v1/partner-requests", tags=["partner requests"], route_class=LoggedReadRoute)


@router.get("")
async def get_inbox(read: LoggedReadDep) -> list[PartnerRequestRow]:
    """Only the requests addressed to the caller's organisation, by code name."""
    require(read.user, Capability.READ_INBOX)
    inbox = await partner_inbox(read.container.engine, read.user.org)
    read.reads.record(*{row.lead_id for row in inbox})
    return inbox


@router.post("/{request_id}/response")
async def answer_request(
    request_id: UUID, body: PartnerResponseCreate, runner: RunnerDep, container: ContainerDep
) -> PartnerAnswerPublic:
    """The addressed partner answers with an offer or a decline; another partner gets 403, and anyone
    who may not know the lead behind it 404."""
    request = await find_partner_request(container.engine, request_id)
    state = None if request is None else await load_lead(runner.store, request.lead_id)
    if request is None or state is None:
        raise NotFoundError("no partner request with this id")
    require_partner_answer(runner.user, request.partner_id, state)
    command = cmd.RespondToPartnerRequest(request_id=request_id, **body.model_dump(exclude={"occurred_at"}))
    answered = (await runner.execute(request.lead_id, command, body, state)).state.partner_request(request_id)
    assert answered is not None
    return PartnerAnswerPublic(
        request_id=request_id,
        code_name=state.code_name,
        status=answered.status,
        answer=answered.answer,
        answered_at=answered.answered_at,
    )
