"""Leads: signal one, list them, read one, its history and its state as of a moment."""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime
from pydantic_core import to_json

from events import commands as cmd
from events.details import LeadDetails
from events.errors import LeadNotFoundError
from events.reference import Domain, Region
from events.state import LeadState, Stage
from events.store import StoredEvent
from services.access import (
    LeadAccess,
    access_to,
    lead_scope,
    require_lead,
    require_lead_reading_role,
    require_signal,
    sees_identity,
)
from services.api.commands import RunnerDep, command_response, readable
from services.api.schemas import CommandResponse, LeadBriefPublic, LeadCreate, LeadPage, LeadPublic
from services.audit.read_logging import LoggedRead, LoggedReadDep, LoggedReadRoute
from services.disclosure import as_disclosed
from services.lead_reads import (
    HistoryEvent,
    as_shown,
    current_document,
    lead_parties,
    load_history,
    replayed_lead,
    state_from,
)
from services.projections.queries import LeadSummaryRow, list_leads

router = APIRouter(prefix="/v1/leads", tags=["leads"], route_class=LoggedReadRoute)
SEARCH = "Part of the code name, or of the company's name where the caller may see the company"
OVERDUE = (
    "`true`: only leads with an open partner request past its due date (UTC date) among the leads the "
    "caller sees in full; `false` (the default): no filter"
)


@router.post("", status_code=status.HTTP_201_CREATED)
async def signal_lead(body: LeadCreate, runner: RunnerDep) -> CommandResponse:
    """Signal a lead; it starts in `signalled` with a generated code name."""
    require_signal(runner.user, body.owner_org)
    lead_id = runner.new_id("lead")
    details = LeadDetails.model_validate(body.model_dump(exclude={"occurred_at"}))
    sent = runner.command_input(cmd.SignalLead(lead_id=lead_id, details=details), body)
    result = await runner.commands.signal(lead_id, sent, runner.update_id)
    return await command_response(result, runner.user, runner.persons)


@router.get("", response_model=LeadPage)
async def get_leads(
    request: Request,
    read: LoggedReadDep,
    stage: Stage | None = None,
    region: Region | None = None,
    domain: Domain | None = None,
    owner_org: str | None = None,
    search: Annotated[str | None, Query(max_length=200, description=SEARCH)] = None,
    overdue: Annotated[bool, Query(description=OVERDUE)] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Leads, newest first; other organisations' leads show only code name, stage, region and domains."""
    count, rows = await list_leads(
        read.container.engine,
        scope=lead_scope(read.user),
        stage=stage,
        region=region,
        domain=domain,
        owner_org=owner_org,
        search=search,
        overdue_on=datetime.now(UTC).date() if overdue else None,
        limit=limit,
        offset=offset,
    )
    read.reads.record(*(row.lead_id for row in rows))
    # A LeadPage as JSON in one step: the rows are the read cache's, already validated.
    page = {
        "count": count,
        **_page_links(request, count, limit, offset),
        "results": [_listed(r) for r in rows],
    }
    return _json(to_json(page))


def _listed(row: LeadSummaryRow) -> LeadSummaryRow | LeadBriefPublic:
    """A list entry as the query shaped it for the caller: in full, or as a brief."""
    if row.full:
        return row
    return LeadBriefPublic.model_validate(row.model_dump())


def _page_links(request: Request, count: int, limit: int, offset: int) -> dict[str, str | None]:
    def link(new_offset: int) -> str:
        return str(request.url.include_query_params(offset=new_offset, limit=limit))

    return {
        "next": link(offset + limit) if offset + limit < count else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
    }


@router.get("/{lead_id}", response_model=LeadPublic | LeadBriefPublic)
async def get_lead(lead_id: UUID, read: LoggedReadDep) -> LeadBriefPublic | Response:
    """The lead's current state, rebuilt from its events."""
    user = read.user
    lead = await readable(read, lead_id, LeadAccess.BRIEF, current_document)
    identity = sees_identity(user, lead)
    if access_to(user, lead) < LeadAccess.READ:
        return LeadBriefPublic.from_values(lead.values, show_identity=identity)
    keys = await read.persons.keys_shown(lead, identity=identity)
    return _json(LeadPublic.json_from_values(lead.values, lead.contacts, show_identity=identity, keys=keys))


@router.get("/{lead_id}/events")
async def get_lead_events(lead_id: UUID, read: LoggedReadDep) -> list[HistoryEvent]:
    """The lead's full event history, oldest first, upcast to the current schemas; contact persons'
    data opened, or `[erased]` once erased."""
    history = await _readable_history(read, lead_id)
    state = _existing(state_from(history))
    identity = sees_identity(read.user, state)
    keys = await read.persons.keys_shown(state, identity=identity)
    return [as_disclosed(as_shown(event), show_identity=identity, keys=keys) for event in history]


@router.get("/{lead_id}/state", response_model=LeadPublic)
async def get_lead_state_as_of(
    lead_id: UUID,
    read: LoggedReadDep,
    as_of: AwareDatetime | None = None,
    known_at: AwareDatetime | None = None,
) -> Response:
    """The state as the case stood at `as_of` (business time), as known at `known_at` (record time).
    Erased contact persons show `[erased]` at every moment: erasure cannot be undone by going back."""
    current = await readable(read, lead_id, LeadAccess.READ, lead_parties)
    identity = sees_identity(read.user, current)
    state = await replayed_lead(read.store, lead_id, as_of=as_of, known_at=known_at)
    if state is None:
        raise LeadNotFoundError("the lead did not exist yet at that moment")
    keys = await read.persons.keys_shown(current, identity=identity)  # erased since as_of: still erased
    return _json(LeadPublic.json_from_state(state, show_identity=identity, keys=keys))


def _json(document: bytes) -> Response:
    """An answer already in JSON (the route's response_model documents its shape)."""
    return Response(content=document, media_type="application/json")


async def _readable_history(read: LoggedRead, lead_id: UUID) -> list[StoredEvent]:
    """The lead's history, for those who may read the whole lead (404 for those who may not know it)."""
    require_lead_reading_role(read.user)
    read.reads.record(lead_id)
    history = await load_history(read.store, lead_id)
    require_lead(read.user, state_from(history), LeadAccess.READ)
    return history


def _existing(state: LeadState | None) -> LeadState:
    if state is None:
        raise LeadNotFoundError("no lead has been signalled with this id")
    return state
