"""Small-cell suppression for the ministry: no breakdown cell may single out an NDA company.

A count of 1 or 2 leads becomes None (shown as "<3"). The leads per current stage add up to the public
number of leads in portfolio and would let a hidden cell be worked out from the others (and from the
funnel), so the ministry gets the funnel only.
"""

from collections.abc import Mapping

from services.reports.breakdowns import Breakdowns, Flow, LeadTimeBucket, LeadTimes

MINIMUM_CELL = 3


def hidden(value: int | None) -> int | None:
    """None for 1 or 2; zero and three or more stay."""
    return None if value is not None and 0 < value < MINIMUM_CELL else value


def suppress_cells(cells: Mapping[str, int | None]) -> dict[str, int | None]:
    return {key: hidden(value) for key, value in cells.items()}


def suppressed(breakdown: Breakdowns) -> Breakdowns:
    """The breakdowns as the ministry may see them: small cells hidden, no partner-level figures."""
    return breakdown.model_copy(
        update={
            "funnel": suppress_cells(breakdown.funnel),
            "current_stages": None,
            "bottlenecks": {region: suppress_cells(row) for region, row in breakdown.bottlenecks.items()},
            "flows": [
                Flow(from_region=f.from_region, to_region=f.to_region, leads=hidden(f.leads))
                for f in breakdown.flows
            ],
            "lead_times": _lead_times(breakdown.lead_times),
            "partners": None,
            "suppressed": True,
        }
    )


def _lead_times(times: LeadTimes) -> LeadTimes:
    few = times.measured < MINIMUM_CELL
    buckets = [
        LeadTimeBucket(**{**bucket.model_dump(), "leads": hidden(bucket.leads)}) for bucket in times.buckets
    ]
    return LeadTimes(
        goal_days=times.goal_days,
        measured=times.measured,
        median_days=None if few else times.median_days,
        share_meeting_goal=None if few else times.share_meeting_goal,
        buckets=buckets,
    )
