"""Command routes of a lead: each parses, builds a command, runs it and shapes the answer."""

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, status

from events import commands as cmd
from events.calendar import add_working_days
from events.details import LeadDetailsChanges, OrgSlug
from events.errors import InvalidCommandError
from services.access import LeadAccess
from services.api.commands import RunnerDep
from services.api.deps import ContainerDep
from services.api.schemas import (
    DEMAND_EXTRA_FIELDS,
    CaseTeamMemberCreate,
    CloseCreate,
    CommandResponse,
    CompanyStageUpdate,
    DecisionCreate,
    DemandCreate,
    DemandUpdate,
    HoldCreate,
    IdentityDisclosureCreate,
    InvestmentConfirmationCreate,
    LeadUpdate,
    NoteCreate,
    OptionCreate,
    OutcomeCreate,
    PartnerRequestCreate,
    StepCreate,
    WithdrawalCreate,
)

router = APIRouter(prefix="/v1/leads/{lead_id}", tags=["lead steps"])


@router.patch("")
async def amend_lead(lead_id: UUID, body: LeadUpdate, runner: RunnerDep) -> CommandResponse:
    changes = LeadDetailsChanges.model_validate(body.model_dump(exclude={"occurred_at"}, exclude_unset=True))
    return await runner.run(lead_id, cmd.AmendLeadDetails(changes=changes), body)


@router.post("/demands", status_code=status.HTTP_201_CREATED)
async def articulate_demand(lead_id: UUID, body: DemandCreate, runner: RunnerDep) -> CommandResponse:
    demand_id = runner.new_id("demand")
    command = cmd.ArticulateDemand(
        demand_id=demand_id,
        spec=body.model_dump(exclude=set(DEMAND_EXTRA_FIELDS)),
        needed_by=body.needed_by,
        description=body.description,
    )
    return await runner.run(lead_id, command, body, demand_id=demand_id)


@router.put("/demands/{demand_id}")
async def revise_demand(
    lead_id: UUID, demand_id: UUID, body: DemandUpdate, runner: RunnerDep
) -> CommandResponse:
    fields = body.model_dump(exclude={"occurred_at", "spec"})
    command = cmd.ReviseDemand(demand_id=demand_id, spec=body.spec, **fields)
    return await runner.run(lead_id, command, body, demand_id=demand_id)


@router.post("/articulation/complete")
async def complete_articulation(
    lead_id: UUID, runner: RunnerDep, body: StepCreate | None = None
) -> CommandResponse:
    return await runner.run(lead_id, cmd.CompleteArticulation(), body)


@router.post("/options", status_code=status.HTTP_201_CREATED)
async def propose_option(lead_id: UUID, body: OptionCreate, runner: RunnerDep) -> CommandResponse:
    option_id = runner.new_id("option")
    command = cmd.ProposeLocationOption(option_id=option_id, **body.model_dump(exclude={"occurred_at"}))
    return await runner.run(lead_id, command, body, option_id=option_id)


@router.post("/partner-requests", status_code=status.HTTP_201_CREATED)
async def send_partner_request(
    lead_id: UUID, body: PartnerRequestCreate, runner: RunnerDep, container: ContainerDep
) -> CommandResponse:
    """Ask a registered partner; the due date defaults to 10 working days (weekends, holidays skipped)."""
    await _require_active_partner(container, body.partner_id)
    # A request recorded after the fact (occurred_at back-dated) may have a due date that has passed.
    sent_on = (body.occurred_at or datetime.now(UTC)).date()
    due_date = body.due_date or add_working_days(sent_on, container.settings.default_due_working_days)
    if due_date < sent_on:
        raise InvalidCommandError("the due date lies before the request was sent", "due_date", "past")
    request_id = runner.new_id("partner-request")
    fields = body.model_dump(exclude={"occurred_at", "due_date"})
    command = cmd.SendPartnerRequest(request_id=request_id, due_date=due_date, **fields)
    return await runner.run(lead_id, command, body, request_id=request_id)


@router.post("/partner-requests/{request_id}/withdraw")
async def withdraw_partner_request(
    lead_id: UUID, request_id: UUID, runner: RunnerDep, body: WithdrawalCreate | None = None
) -> CommandResponse:
    """Withdraw an open request; its reminders stop at once."""
    reason = body.reason if body else None
    return await runner.run(lead_id, cmd.WithdrawPartnerRequest(request_id=request_id, reason=reason), body)


async def _require_active_partner(container: ContainerDep, partner_id: str) -> None:
    partner = await container.registry.get(partner_id)
    if partner is None or not partner.active:
        raise InvalidCommandError("no active partner with this id in the registry", "partner_id", "unknown")


@router.post("/identity-disclosures")
async def disclose_identity(
    lead_id: UUID, body: IdentityDisclosureCreate, runner: RunnerDep
) -> CommandResponse:
    """Disclose the company's identity to one organisation (under NDA), with the reason."""
    command = cmd.DiscloseIdentity(to_org=body.to_org, reason=body.reason)
    return await runner.run(lead_id, command, body, needed=LeadAccess.MANAGE)


@router.post("/case-team/{org}", status_code=status.HTTP_201_CREATED)
async def add_case_team_member(
    lead_id: UUID, org: OrgSlug, runner: RunnerDep, body: CaseTeamMemberCreate | None = None
) -> CommandResponse:
    """Add an organisation to the case team: its taskforce may then read and change the lead (the
    company's identity still only after a disclosure)."""
    command = cmd.AddCaseTeamMember(org=org, reason=body.reason if body else None)
    return await runner.run(lead_id, command, body, needed=LeadAccess.MANAGE)


@router.delete("/case-team/{org}")
async def remove_case_team_member(lead_id: UUID, org: OrgSlug, runner: RunnerDep) -> CommandResponse:
    """Take an organisation off the case team; its taskforce sees the lead by code name again."""
    return await runner.run(lead_id, cmd.RemoveCaseTeamMember(org=org), None, needed=LeadAccess.MANAGE)


@router.post("/decision")
async def record_decision(lead_id: UUID, body: DecisionCreate, runner: RunnerDep) -> CommandResponse:
    command = cmd.RecordCompanyDecision(**body.model_dump(exclude={"occurred_at"}))
    return await runner.run(lead_id, command, body)


@router.post("/company-stage")
async def change_company_stage(lead_id: UUID, body: CompanyStageUpdate, runner: RunnerDep) -> CommandResponse:
    command = cmd.ChangeCompanyStage(company_stage=body.company_stage)
    return await runner.run(lead_id, command, body)


@router.post("/outcome")
async def record_outcome(lead_id: UUID, body: OutcomeCreate, runner: RunnerDep) -> CommandResponse:
    command = cmd.RecordOutcome(**body.model_dump(exclude={"occurred_at"}))
    return await runner.run(lead_id, command, body)


@router.post("/investment-confirmation")
async def confirm_investment(
    lead_id: UUID, body: InvestmentConfirmationCreate, runner: RunnerDep
) -> CommandResponse:
    command = cmd.ConfirmInvestment(**body.model_dump(exclude={"occurred_at"}))
    return await runner.run(lead_id, command, body)


@router.post("/hold")
async def put_on_hold(lead_id: UUID, body: HoldCreate, runner: RunnerDep) -> CommandResponse:
    return await runner.run(lead_id, cmd.PutLeadOnHold(reason=body.reason), body)


@router.post("/resume")
async def resume(lead_id: UUID, runner: RunnerDep, body: StepCreate | None = None) -> CommandResponse:
    return await runner.run(lead_id, cmd.ResumeLead(), body)


@router.post("/notes", status_code=status.HTTP_201_CREATED)
async def add_note(lead_id: UUID, body: NoteCreate, runner: RunnerDep) -> CommandResponse:
    note_id = runner.new_id("note")
    return await runner.run(lead_id, cmd.AddNote(note_id=note_id, text=body.text), body, note_id=note_id)


@router.post("/close")
async def close_lead(lead_id: UUID, runner: RunnerDep, body: CloseCreate | None = None) -> CommandResponse:
    return await runner.run(lead_id, cmd.CloseLead(reason=body.reason if body else None), body)
