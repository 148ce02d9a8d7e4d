"""Auditing over HTTP: chain verification, the access log, and a lead's case-file export."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.access import Capability, ForbiddenError, LeadAccess, require, sees_identity
from services.api.commands import readable_lead
from services.api.deps import ContainerDep, CurrentUser
from services.audit.access_log import AccessLogPage, ProcessingActivity, query_access_log
from services.audit.export import MEDIA_TYPE, case_file, case_file_name
from services.audit.read_logging import LoggedReadDep, LoggedReadRoute
from services.audit.verify import VerificationReport, verify_lead, verify_log

router = APIRouter(tags=["audit"], route_class=LoggedReadRoute)


@router.get("/v1/audit/verification")
async def get_verification(
    user: CurrentUser, container: ContainerDep, lead_id: UUID | None = None
) -> VerificationReport:
    """Walk the hash chain of the whole log, or of one lead up to the log head; name the first break."""
    require(user, Capability.VERIFY_LOG)
    if lead_id is None:
        return await verify_log(container.store)
    return await verify_lead(container.store, lead_id)


@router.get("/v1/audit/access-log")
async def get_access_log(
    user: CurrentUser,
    container: ContainerDep,
    lead_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AccessLogPage:
    """Who read which lead's data, when, through which endpoint and for which processing activity."""
    require(user, Capability.READ_ACCESS_LOG)
    lead = None if lead_id is None else str(lead_id)
    return await query_access_log(container.engine, lead_id=lead, limit=limit, offset=offset)


@router.get(
    "/v1/leads/{lead_id}/export",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "The case file (CloudEvents JSON lines)"}},
)
async def export_case_file(lead_id: UUID, read: LoggedReadDep) -> Response:
    """The lead's case file, verifiable offline with `python -m services.audit.verify_export FILE`."""
    user = read.user
    state = await readable_lead(read, lead_id, LeadAccess.READ, ProcessingActivity.VERANTWOORDING)
    if not sees_identity(user, state):
        raise ForbiddenError("the case file names the company, whose identity was not disclosed to you")
    content = await case_file(read.container.engine, lead_id, user.as_actor())
    disposition = f'attachment; filename="{case_file_name(lead_id)}"'
    return Response(content, media_type=MEDIA_TYPE, headers={"Content-Disposition": disposition})
