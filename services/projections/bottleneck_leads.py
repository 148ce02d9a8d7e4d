"""Bottleneck cells (region x demand kind) with the number of leads behind each, for suppression.

The bottleneck figures count unresolved demands; one lead can have several, so whether a cell may be
shown to the ministry depends on its number of distinct leads. Both come from one query, so they agree.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.reference import Region
from services.projections.monitoring import DEMAND_KINDS
from services.projections.tables import demand_summaries

Grid = dict[str, dict[str, int]]


@dataclass(frozen=True)
class BottleneckCounts:
    demands: Grid  # unresolved demands by home region and kind
    leads: Grid  # distinct leads behind them


def _empty() -> Grid:
    return {region.value: dict.fromkeys(DEMAND_KINDS, 0) for region in Region}


async def bottleneck_counts(engine: AsyncEngine) -> BottleneckCounts:
    """Unresolved demands and the distinct leads with them, by the lead's home region and demand kind."""
    d = demand_summaries.c
    statement = (
        select(d.home_region, d.kind, func.count(), func.count(d.lead_id.distinct()))
        .where(d.status == "unresolved")
        .group_by(d.home_region, d.kind)
    )
    counts = BottleneckCounts(demands=_empty(), leads=_empty())
    async with engine.connect() as connection:
        for region, kind, demands, leads in (await connection.execute(statement)).all():
            counts.demands[region][kind] = int(demands)
            counts.leads[region][kind] = int(leads)
    return counts
