"""Small-cell suppression for the ministry: no breakdown cell may single out an NDA company.

A count of 1 or 2 leads becomes None (shown as "<3"). The leads per current stage add up to the public
number of leads in portfolio and would let a hidden cell be worked out from the others (and from the
funnel), so the dashboard and reports give the ministry the funnel only; the API's per-stage pipeline
hides more cells (`suppress_against_totals`) until no small cell can be worked out from a total.
"""

from collections.abc import Collection, Mapping
from typing import Annotated

from pydantic import Field

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
            "funnel": suppress_funnel(breakdown.funnel),
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


# Steps of the funnel that each count a subset of the step before: the difference of two shown steps is a
# count of leads too (e.g. signalled minus articulating = leads without a demand yet).
FUNNEL_CHAINS = (("signalled", "articulating", "brokering"), ("signalled", "decided", "closed"))


def suppress_funnel(funnel: Mapping[str, int | None]) -> dict[str, int | None]:
    """Small steps hidden, and every step whose difference from the last step shown before it in its
    chain is 1 or 2, so no small number of leads can be worked out by subtraction either."""
    shown = suppress_cells(funnel)
    for first, *rest in FUNNEL_CHAINS:
        last = shown.get(first)
        for step in rest:
            value = shown.get(step)
            if value is None or last is None:
                continue
            if 0 < last - value < MINIMUM_CELL:
                shown[step] = None
            else:
                last = value
    return shown


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


SUPPRESSED_CELL = (
    "A count; `null` when suppressed for the ministry: a cell of 1 or 2 leads, or a cell hidden as well "
    "so that such a cell cannot be worked out from a published total (the UI shows `<3`)."
)
CellCount = Annotated[int | None, Field(description=SUPPRESSED_CELL)]


def suppress_against_totals(cells: Mapping[str, int], *groups: Collection[str]) -> dict[str, int | None]:
    """Small cells hidden, and as many more as needed that none can be worked out from a public total.

    Each group is a set of cells whose sum is public (default: the whole row). Where the hidden cells of a
    group would pin a small cell down exactly, the group's smallest visible cells are hidden as well.
    """
    secret = {key for key, value in cells.items() if hidden(value) is None}
    for_groups = sorted(groups or (tuple(cells),), key=len)  # the tighter sums first: fewer cells hidden
    while True:
        before = set(secret)
        for group in for_groups:
            secret = _protected(cells, group, secret)
        if secret == before:
            return {key: None if key in secret else value for key, value in cells.items()}


def _protected(cells: Mapping[str, int], group: Collection[str], hidden: set[str]) -> set[str]:
    hidden = set(hidden)
    while not _undecidable({key: cells[key] for key in group}, hidden & set(group)):
        spare = sorted((cells[key], key) for key in group if key not in hidden and cells[key] > 0)
        if not spare:
            return hidden | set(group)
        hidden.add(spare[0][1])
    return hidden


def _undecidable(group: Mapping[str, int], hidden: set[str]) -> bool:
    """Whether every hidden small cell could be 1 as well as 2, knowing the group's total."""
    hidden_sum = sum(group[key] for key in hidden)
    cap = min((v for k, v in group.items() if k not in hidden and v > 0), default=hidden_sum)
    bounds = {key: _bounds(group[key], cap) for key in hidden}
    for key in hidden:
        if not 0 < group[key] < MINIMUM_CELL:
            continue
        low = sum(b[0] for k, b in bounds.items() if k != key)
        high = sum(b[1] for k, b in bounds.items() if k != key)
        if not all(low <= hidden_sum - guess <= high for guess in range(1, MINIMUM_CELL)):
            return False
    return True


def _bounds(value: int, cap: int) -> tuple[int, int]:
    """What a reader may know of a hidden cell: zero, small, or at least the minimum (up to `cap`)."""
    if value == 0:
        return (0, 0)
    if value < MINIMUM_CELL:
        return (1, MINIMUM_CELL - 1)
    return (MINIMUM_CELL, max(cap, value))


def suppress_by_leads(
    counts: Mapping[str, Mapping[str, int]], leads: Mapping[str, Mapping[str, int]]
) -> dict[str, dict[str, int | None]]:
    """Counts of something else than leads (e.g. demands) hidden where a cell concerns 1 or 2 leads."""
    return {
        row: {
            col: value if hidden(leads.get(row, {}).get(col, 0)) is not None else None
            for col, value in cols.items()
        }
        for row, cols in counts.items()
    }
