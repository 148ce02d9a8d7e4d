"""The programme's breakdowns, computed from leads' states as of one moment (pure; no I/O).

The dashboard (from the read models, now) and the reports (from the log, as of a cut-off) use the same
functions, so a report shows what the dashboard showed on its cut-off.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from events.demands import DemandStatus
from events.reference import REALISED_OUTCOMES, OutcomeCode, Region
from events.state import LeadState, Stage

DEMAND_KINDS = ("space", "capital", "talent", "housing_accessibility", "energy", "financing")
FUNNEL_STEPS = ("signalled", "articulating", "brokering", "decided", "closed")
ABROAD = "abroad"
GOAL_DAYS = 730  # the programme's goal: demands on the table two to three years before they are needed
LEAD_TIME_BUCKETS = (  # (label, from days inclusive, to days exclusive)
    ("te laat", None, 0),
    ("< 1 jaar", 0, 365),
    ("1-2 jaar", 365, 730),
    ("2-3 jaar", 730, 1095),
    ("≥ 3 jaar", 1095, None),
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Flow(_Frozen):
    """Leads from their home region to where they realised their growth (or `abroad`)."""

    from_region: str
    to_region: str
    leads: int | None


class LeadTimeBucket(_Frozen):
    label: str
    from_days: int | None
    to_days: int | None
    leads: int | None
    meets_goal: bool


class LeadTimes(_Frozen):
    """Articulation lead time (`needed_by` - signalled) against the two-to-three-year goal."""

    goal_days: int = GOAL_DAYS
    measured: int
    median_days: float | None
    share_meeting_goal: float | None
    buckets: list[LeadTimeBucket]


class PartnerTimes(_Frozen):
    partner_id: str
    requests: int
    answered: int
    median_days: float | None


class Breakdowns(_Frozen):
    as_of: AwareDatetime
    funnel: dict[str, int | None]
    current_stages: dict[str, int | None] | None  # None for the ministry: the funnel is its picture
    bottlenecks: dict[str, dict[str, int | None]]
    flows: list[Flow]
    lead_times: LeadTimes
    partners: list[PartnerTimes] | None
    suppressed: bool = False


def breakdowns(states: Sequence[LeadState], as_of: datetime) -> Breakdowns:
    return Breakdowns(
        as_of=as_of,
        funnel=funnel(states),
        current_stages=current_stages(states),
        bottlenecks=bottlenecks(states),
        flows=flows(states),
        lead_times=lead_times(states),
        partners=partner_times(states),
    )


def funnel(states: Sequence[LeadState]) -> dict[str, int | None]:
    """How many leads reached each step: signalled, demand articulated, case approach, outcome, closed."""
    reached: dict[str, int | None] = {
        "signalled": len(states),
        "articulating": sum(1 for s in states if s.demands),
        "brokering": sum(1 for s in states if s.articulation_completed_at is not None),
        "decided": sum(1 for s in states if s.outcome is not None),
        "closed": sum(1 for s in states if s.stage is Stage.CLOSED),
    }
    return reached


def current_stages(states: Sequence[LeadState]) -> dict[str, int | None]:
    counts = Counter(state.stage.value for state in states)
    return {stage.value: counts.get(stage.value, 0) for stage in Stage}


def bottlenecks(states: Sequence[LeadState]) -> dict[str, dict[str, int | None]]:
    """Leads with an unresolved demand, by home region and demand kind."""
    grid: dict[str, dict[str, int | None]] = {r.value: dict.fromkeys(DEMAND_KINDS, 0) for r in Region}
    for state in states:
        kinds = {d.spec.kind for d in state.demands if d.status is DemandStatus.UNRESOLVED}
        for kind in kinds:
            row = grid[state.details.home_region.value]
            row[kind] = (row[kind] or 0) + 1
    return grid


def flows(states: Sequence[LeadState]) -> list[Flow]:
    """Realised outcomes from home region to the region of realisation; departures abroad as `abroad`."""
    counts: Counter[tuple[str, str]] = Counter()
    for state in states:
        outcome, home = state.outcome, state.details.home_region.value
        if outcome is not None and (to := flow_target(home, outcome.code, outcome.region)) is not None:
            counts[(home, to)] += 1
    return flows_from(counts)


def flow_target(home: str, code: OutcomeCode, region: Region | None) -> str | None:
    """Where a lead with this outcome went: a region, `abroad`, or None (no flow)."""
    if code in REALISED_OUTCOMES:
        target = region.value if region is not None else home
        return home if code is OutcomeCode.REALISED_OWN_REGION else target
    return ABROAD if code is OutcomeCode.LEFT_ABROAD else None


def flows_from(counts: Counter[tuple[str, str]]) -> list[Flow]:
    return [Flow(from_region=a, to_region=b, leads=n) for (a, b), n in sorted(counts.items())]


def lead_times(states: Sequence[LeadState]) -> LeadTimes:
    days = [
        (s.details.needed_by - s.signalled_at.date()).days for s in states if s.details.needed_by is not None
    ]
    return lead_times_from(days)


def lead_times_from(days: Sequence[int]) -> LeadTimes:
    """Lead times of the leads whose `needed_by` is known, in days from signalling."""
    buckets = [
        LeadTimeBucket(
            label=label,
            from_days=low,
            to_days=high,
            leads=sum(1 for d in days if (low is None or d >= low) and (high is None or d < high)),
            meets_goal=low is not None and low >= GOAL_DAYS,
        )
        for label, low, high in LEAD_TIME_BUCKETS
    ]
    meeting = sum(1 for d in days if d >= GOAL_DAYS)
    return LeadTimes(
        measured=len(days),
        median_days=float(statistics.median(days)) if days else None,
        share_meeting_goal=round(meeting / len(days), 3) if days else None,
        buckets=buckets,
    )


def partner_times(states: Sequence[LeadState]) -> list[PartnerTimes]:
    """Per partner: requests sent, answered, and the median days from sending to answer."""
    by_partner: dict[str, list[float | None]] = defaultdict(list)
    for state in states:
        for request in state.partner_requests:
            answered = request.answered_at
            elapsed = (answered - request.sent_at).total_seconds() / 86400 if answered else None
            by_partner[request.partner_id].append(elapsed)
    return partner_times_from(by_partner)


def partner_times_from(by_partner: Mapping[str, list[float | None]]) -> list[PartnerTimes]:
    """Per partner, from the days each request took to be answered (None: not answered)."""
    return [_partner(partner_id, times) for partner_id, times in sorted(by_partner.items())]


def _partner(partner_id: str, times: list[float | None]) -> PartnerTimes:
    answered = [t for t in times if t is not None]
    median = round(statistics.median(answered), 1) if answered else None
    return PartnerTimes(
        partner_id=partner_id, requests=len(times), answered=len(answered), median_days=median
    )
