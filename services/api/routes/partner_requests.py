"""A partner's inbox and its answers (DESIGN §6)."""

from uuid import UUID

from fastapi import APIRouter

from events import commands as cmd
from events.state import LeadState
from services.access import ForbiddenError, require_partner_answer
from services.api.commands import RunnerDep
from services.api.deps import ContainerDep, CurrentUser
from services.api.problems import NotFoundError
from services.api.schemas import CommandResponse, PartnerResponseCreate
from services.audit.read_logging import ReadLogDep
from services.auth import Principal, Role
from services.projections.queries import PartnerRequestRow, find_partner_request, partner_inbox

router = APIRouter(prefix="/v1/partner-requests", tags=["partner requests"])


@router.get("")
async def get_inbox(user: CurrentUser, container: ContainerDep, reads: ReadLogDep) -> list[PartnerRequestRow]:
    """Only the requests addressed to the caller's organisation, by code name."""
    if not user.roles & {Role.PARTNER, Role.TASKFORCE, Role.COORDINATOR}:
        raise ForbiddenError("your role has no partner inbox")
    inbox = await partner_inbox(container.engine, user.org)
    reads.record(*{row.lead_id for row in inbox})
    return inbox


@router.post("/{request_id}/response")
async def answer_request(
    request_id: UUID, body: PartnerResponseCreate, runner: RunnerDep, container: ContainerDep
) -> CommandResponse:
    """The addressed partner answers with an offer or a decline."""
    request = await find_partner_request(container.engine, request_id)
    if request is None:
        raise NotFoundError("no partner request with this id")
    command = cmd.RespondToPartnerRequest(request_id=request_id, **body.model_dump(exclude={"occurred_at"}))

    def authorize(user: Principal, state: LeadState) -> None:
        require_partner_answer(user, request.partner_id, state)

    return await runner.run(request.lead_id, command, body, authorize=authorize, request_id=request_id)
