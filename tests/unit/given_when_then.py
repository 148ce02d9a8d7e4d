"""Given/when/then for the lead's rules: fold past events, decide a command, evolve the answer.

`given(*events)` folds events one hour apart from `T0`; `when(state, command)` is `decide`;
`after(state, events)` applies the answer so a test can look at the state it leads to.
The builders give the events of a typical lead in each stage; `SAMPLE_COMMANDS` holds one
valid command of every kind for that lead, and `HOME_OF` says in which stage it is accepted.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from events import commands as cmd
from events import model as ev
from events.codenames import code_name_for
from events.decide import decide
from events.demands import DemandStatus, EnergySpec, SpaceSpec
from events.details import Company, LeadDetails, LeadDetailsChanges
from events.evolve import evolve
from events.lead import fold
from events.reference import CompanyStage, Domain, OutcomeCode, Province, Region
from events.state import LeadState

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

LEAD_ID = UUID("7d3c9a52-1f4e-4b8a-9c61-2a5e0b7d4f11")
DEMAND_ID = UUID("00000000-0000-4000-8000-00000000d001")
OPTION_ID = UUID("00000000-0000-4000-8000-00000000a001")
REQUEST_ID = UUID("00000000-0000-4000-8000-00000000b001")
NEW_ID = UUID("00000000-0000-4000-8000-00000000f001")
UNKNOWN_DEMAND_ID = UUID("00000000-0000-4000-8000-00000000dead")

HOME_REGION = Region.ZUID
OTHER_REGION = Region.OOST

DETAILS = LeadDetails(
    company=Company(name="Fotonica Eindhoven B.V.", kvk_number="12345678"),
    owner_org="bom",
    home_region=HOME_REGION,
    province=Province.NOORD_BRABANT,
    municipality="Eindhoven",
    domains=[Domain.PHOTONICS],
    company_stage=CompanyStage.STARTUP,
    life_phase=2,
    needed_by=date(2027, 6, 1),
    investment_at_stake_eur=40_000_000,
    jobs_at_stake=120,
    foreign_alternative="DE",
)


def occurred_at(index: int) -> datetime:
    """Business time of the event at `index` (0-based) in a lead's history."""
    return T0 + timedelta(hours=index)


def given(*events: ev.DomainEvent) -> LeadState | None:
    """The lead's state after `events`, one hour apart; None when there are none."""
    return fold((event, occurred_at(index)) for index, event in enumerate(events))


def given_lead(*events: ev.DomainEvent) -> LeadState:
    """Like `given`, for histories that are known to start a lead."""
    state = given(*events)
    assert state is not None
    return state


def when(state: LeadState | None, command: Any) -> list[ev.DomainEvent]:
    """The events `command` produces on the lead, or the DomainError refusing it."""
    return decide(state, command)


def after(state: LeadState | None, events: Sequence[ev.DomainEvent]) -> LeadState:
    """The state once `events` are applied, continuing the one-hour rhythm of `given`."""
    start = state.version if state is not None else 0
    for index, event in enumerate(events, start=start):
        state = evolve(state, event, occurred_at(index))
    assert state is not None
    return state


# --- a typical lead's history, stage by stage ---------------------------------------------------


def signalled() -> list[ev.DomainEvent]:
    return [ev.LeadSignalled(lead_id=LEAD_ID, code_name=code_name_for(LEAD_ID), details=DETAILS)]


def articulating() -> list[ev.DomainEvent]:
    """Signalled, with one open space demand."""
    demand = ev.DemandArticulated(
        demand_id=DEMAND_ID,
        spec=SpaceSpec(floor_area_m2=4000, cleanroom_iso_class=6),
        needed_by=date(2027, 6, 1),
    )
    return [*signalled(), demand]


def brokering() -> list[ev.DomainEvent]:
    """Articulation completed, one location option in another region, one open partner request."""
    return [
        *articulating(),
        ev.ArticulationCompleted(demand_count=1),
        ev.LocationOptionProposed(
            option_id=OPTION_ID,
            region=OTHER_REGION,
            province=Province.GELDERLAND,
            municipality="Nijmegen",
            demand_ids=[DEMAND_ID],
        ),
        ev.PartnerRequestSent(
            request_id=REQUEST_ID,
            partner_id="provincie-gelderland",
            demand_ids=[DEMAND_ID],
            question="Is there a 4000 m2 cleanroom site available by mid 2027?",
            due_date=date(2025, 4, 1),
        ),
    ]


def put_on_hold(history: list[ev.DomainEvent]) -> list[ev.DomainEvent]:
    """`history` interrupted by a hold from whatever stage it reached."""
    stage = given_lead(*history).stage
    return [*history, ev.LeadPutOnHold(reason="company is refinancing", from_stage=stage.value)]


def on_hold_from_brokering() -> list[ev.DomainEvent]:
    return put_on_hold(brokering())


def decided() -> list[ev.DomainEvent]:
    """Brokering ended in growth in another region; the open request was withdrawn."""
    return [
        *brokering(),
        ev.PartnerRequestWithdrawn(request_id=REQUEST_ID, reason="outcome recorded"),
        ev.OutcomeRecorded(
            code=OutcomeCode.REALISED_OTHER_REGION,
            region=OTHER_REGION,
            province=Province.GELDERLAND,
            investment_eur=35_000_000,
            jobs=100,
        ),
    ]


def closed() -> list[ev.DomainEvent]:
    return [*decided(), ev.LeadClosed(reason="aftercare done")]


BUILDERS: dict[str, Callable[[], list[ev.DomainEvent]]] = {
    "signalled": signalled,
    "articulating": articulating,
    "brokering": brokering,
    "on_hold": on_hold_from_brokering,
    "decided": decided,
    "closed": closed,
}


# --- one valid command of every kind for the typical lead -----------------------------------------


def _outcome(code: OutcomeCode) -> cmd.RecordOutcome:
    fields: dict[OutcomeCode, dict[str, Any]] = {
        OutcomeCode.REALISED_OTHER_REGION: {"region": OTHER_REGION, "investment_eur": 35e6, "jobs": 100},
        OutcomeCode.REALISED_OWN_REGION: {"investment_eur": 20e6, "jobs": 60},
        OutcomeCode.LEFT_ABROAD: {"country": "DE"},
        OutcomeCode.NO_PROPOSITION: {"explanation": "no site with grid capacity anywhere"},
        OutcomeCode.WITHDRAWN: {"explanation": "company stopped its plans"},
    }
    return cmd.RecordOutcome(code=code, **fields[code])


SAMPLE_COMMANDS: dict[str, Any] = {
    "SignalLead": cmd.SignalLead(lead_id=LEAD_ID, details=DETAILS),
    "AmendLeadDetails": cmd.AmendLeadDetails(changes=LeadDetailsChanges(jobs_at_stake=150)),
    "ArticulateDemand": cmd.ArticulateDemand(demand_id=NEW_ID, spec=EnergySpec(grid_capacity_mva=12)),
    "ReviseDemand": cmd.ReviseDemand(demand_id=DEMAND_ID, status=DemandStatus.MATCHED),
    "CompleteArticulation": cmd.CompleteArticulation(),
    "ProposeLocationOption": cmd.ProposeLocationOption(
        option_id=NEW_ID, region=Region.NOORD, demand_ids=[DEMAND_ID]
    ),
    "SendPartnerRequest": cmd.SendPartnerRequest(
        request_id=NEW_ID,
        partner_id="tennet",
        demand_ids=[DEMAND_ID],
        question="Can 12 MVA be connected by 2027?",
        due_date=date(2025, 5, 1),
    ),
    "RespondToPartnerRequest": cmd.RespondToPartnerRequest(
        request_id=REQUEST_ID, answer="offer", details={"site": "Novio Tech Campus"}
    ),
    "WithdrawPartnerRequest": cmd.WithdrawPartnerRequest(request_id=REQUEST_ID, reason="not needed"),
    "RecordCompanyDecision": cmd.RecordCompanyDecision(option_id=OPTION_ID),
    "ChangeCompanyStage": cmd.ChangeCompanyStage(company_stage=CompanyStage.SCALE_UP),
    "PutLeadOnHold": cmd.PutLeadOnHold(reason="waiting for a funding round"),
    "ResumeLead": cmd.ResumeLead(),
    **{f"RecordOutcome({code.value})": _outcome(code) for code in OutcomeCode},
    "ConfirmInvestment": cmd.ConfirmInvestment(amount_eur=30e6, jobs=90),
    "CloseLead": cmd.CloseLead(reason="aftercare done"),
    "AddNote": cmd.AddNote(note_id=NEW_ID, text="Met the CEO in Eindhoven."),
    "DiscloseIdentity": cmd.DiscloseIdentity(to_org="provincie-gelderland", reason="site visit"),
    "AddCaseTeamMember": cmd.AddCaseTeamMember(org="oost-nl", reason="the receiving region's ROM"),
}

# The builder of the stage in which each sample command is accepted (None: no lead yet).
_HOME_IS_BROKERING: dict[str, str | None] = {name: "brokering" for name in SAMPLE_COMMANDS}
HOME_OF: dict[str, str | None] = _HOME_IS_BROKERING | {
    "SignalLead": None,
    "CompleteArticulation": "articulating",
    "ResumeLead": "on_hold",
    "ConfirmInvestment": "decided",
    "CloseLead": "decided",
}


def commands_except(*names: str) -> list[str]:
    """Names of the sample commands other than `names` (which must exist)."""
    missing = set(names) - set(SAMPLE_COMMANDS)
    assert not missing, f"no sample command named {missing}"
    return [name for name in SAMPLE_COMMANDS if name not in names]
