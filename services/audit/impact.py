"""The impact figures recomputed from the event log, bitemporally: reproducible for any past report.

The read models answer "as of" in business time only, from what they hold now. This folds every lead's
events instead, keeping those recorded by `known_at` (and up to a log position) that had occurred by
`as_of` — the same rule as a single lead's state (services.lead_reads) — and counts the states.
"""

from collections.abc import Iterable
from datetime import date, datetime

from events.reference import REALISED_OUTCOMES, OutcomeCode
from events.state import LeadState
from events.store import EventStore, StoredEvent
from services.lead_reads import state_from
from services.projections.impact import ImpactCounts, ImpactReport, impact_report
from services.settings import ImpactTargets

LEAD_STREAM_PREFIX = "lead-"
_BATCH = 1000


async def impact_from_log(
    store: EventStore,
    *,
    targets: ImpactTargets,
    programme_start: date,
    programme_end: date,
    as_of: datetime,
    known_at: datetime | None = None,
    through_position: int | None = None,
) -> ImpactReport:
    """The impact table at business time `as_of`, as the log stood at `known_at` / `through_position`."""
    states = await lead_states(store, as_of=as_of, known_at=known_at, through_position=through_position)
    return impact_report(
        count_impact(states),
        targets=targets,
        programme_start=programme_start,
        programme_end=programme_end,
        as_of=as_of,
    )


async def lead_states(
    store: EventStore,
    *,
    as_of: datetime,
    known_at: datetime | None = None,
    through_position: int | None = None,
) -> list[LeadState]:
    """Every lead's state at `as_of`, counting what was recorded by `known_at` up to `through_position`."""
    histories = await _lead_histories(store, through_position)
    states = (state_from(history, as_of=as_of, known_at=known_at) for history in histories)
    return [state for state in states if state is not None]


async def _lead_histories(store: EventStore, through_position: int | None) -> list[list[StoredEvent]]:
    by_stream: dict[str, list[StoredEvent]] = {}
    after = 0
    while batch := await store.read_all(after, _BATCH):
        for event in batch:
            if through_position is not None and event.position > through_position:
                return list(by_stream.values())
            if event.stream_id.startswith(LEAD_STREAM_PREFIX):
                by_stream.setdefault(event.stream_id, []).append(event)
        after = batch[-1].position
    return list(by_stream.values())


def count_impact(states: Iterable[LeadState]) -> ImpactCounts:
    """What DESIGN §7 counts, from the leads' states (each already as of the report's moment)."""
    leads = approaches = other_region = scale_ups = 0
    committed = confirmed = 0.0
    for state in states:
        leads += 1
        approaches += state.articulation_completed_at is not None
        outcome = state.outcome
        if outcome is None or outcome.code not in REALISED_OUTCOMES:
            continue
        committed += outcome.investment_eur or 0.0
        confirmed += state.confirmed_investment_eur or 0.0
        if outcome.code is OutcomeCode.REALISED_OTHER_REGION:
            other_region += 1
            scale_ups += state.became_scale_up_at is not None
    return ImpactCounts(
        leads_in_portfolio=leads,
        case_approaches_started=approaches,
        realised_other_region=other_region,
        new_scale_ups=scale_ups,
        committed_investment_eur=committed,
        confirmed_investment_eur=confirmed,
    )
