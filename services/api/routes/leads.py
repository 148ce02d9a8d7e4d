"""Leads: signal one, list them, read one, its history and its state as of a moment."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from pydantic import AwareDatetime

from events import commands as cmd
from events.details import LeadDetails
from events.errors import LeadNotFoundError
from events.reference import Domain, Region
from events.state import LeadState, Stage
from services.access import may_see_full_lead, require_full_read, require_lead_reader, require_signal
from services.api.commands import RunnerDep, command_response, existing_lead
from services.api.deps import ContainerDep, CurrentUser, EventStoreDep
from services.api.schemas import CommandResponse, LeadBriefPublic, LeadCreate, LeadPage, LeadPublic
from services.audit.read_logging import ReadLogDep
from services.lead_reads import HistoryEvent, as_shown, load_history, state_from
from services.projections.queries import list_leads

router = APIRouter(prefix="/v1/leads", tags=["leads"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def signal_lead(body: LeadCreate, runner: RunnerDep) -> CommandResponse:
    """Signal a lead; it starts in `signalled` with a generated code name."""
    require_signal(runner.user, body.owner_org)
    lead_id = runner.new_id("lead")
    details = LeadDetails.model_validate(body.model_dump(exclude={"occurred_at"}))
    sent = runner.command_input(cmd.SignalLead(lead_id=lead_id, details=details), body)
    return command_response(await runner.commands.signal(lead_id, sent, runner.update_id))


@router.get("")
async def get_leads(
    request: Request,
    user: CurrentUser,
    container: ContainerDep,
    reads: ReadLogDep,
    stage: Stage | None = None,
    region: Region | None = None,
    domain: Domain | None = None,
    owner_org: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> LeadPage:
    """Leads, newest first; other organisations' leads show only code name, stage, region and domains."""
    require_lead_reader(user)
    count, rows = await list_leads(
        container.engine,
        stage=stage,
        region=region,
        domain=domain,
        owner_org=owner_org,
        limit=limit,
        offset=offset,
    )
    reads.record(*(row.lead_id for row in rows))
    results = [
        row.model_dump(mode="json")
        if may_see_full_lead(user, row.owner_org)
        else LeadBriefPublic.model_validate(row.model_dump()).model_dump(mode="json")
        for row in rows
    ]
    return LeadPage(count=count, results=results, **_page_links(request, count, limit, offset))


def _page_links(request: Request, count: int, limit: int, offset: int) -> dict[str, str | None]:
    def link(new_offset: int) -> str:
        return str(request.url.include_query_params(offset=new_offset, limit=limit))

    return {
        "next": link(offset + limit) if offset + limit < count else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
    }


@router.get("/{lead_id}")
async def get_lead(
    lead_id: UUID, user: CurrentUser, store: EventStoreDep, reads: ReadLogDep
) -> LeadPublic | LeadBriefPublic:
    """The lead's current state, rebuilt from its events."""
    require_lead_reader(user)
    reads.record(lead_id)
    state = await existing_lead(store, lead_id)
    if not may_see_full_lead(user, state.details.owner_org):
        return LeadBriefPublic(
            lead_id=state.lead_id,
            code_name=state.code_name,
            stage=state.stage,
            home_region=state.details.home_region,
            domains=state.details.domains,
        )
    return LeadPublic.from_state(state)


@router.get("/{lead_id}/events")
async def get_lead_events(
    lead_id: UUID, user: CurrentUser, store: EventStoreDep, reads: ReadLogDep
) -> list[HistoryEvent]:
    """The lead's full event history, oldest first, upcast to the current schemas."""
    require_lead_reader(user)
    reads.record(lead_id)
    history = await load_history(store, lead_id)
    require_full_read(user, _existing(state_from(history)))
    return [as_shown(event) for event in history]


@router.get("/{lead_id}/state")
async def get_lead_state_as_of(
    lead_id: UUID,
    user: CurrentUser,
    store: EventStoreDep,
    reads: ReadLogDep,
    as_of: AwareDatetime | None = None,
    known_at: AwareDatetime | None = None,
) -> LeadPublic:
    """The state as the case stood at `as_of` (business time), as known at `known_at` (record time)."""
    require_lead_reader(user)
    reads.record(lead_id)
    history = await load_history(store, lead_id)
    require_full_read(user, _existing(state_from(history)))
    state = state_from(history, as_of=as_of, known_at=known_at)
    if state is None:
        raise LeadNotFoundError("the lead did not exist yet at that moment")
    return LeadPublic.from_state(state)


def _existing(state: LeadState | None) -> LeadState:
    if state is None:
        raise LeadNotFoundError("no lead has been signalled with this id")
    return state
