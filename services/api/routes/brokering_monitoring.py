"""Monitoring of brokering: bottlenecks by region and demand kind, partner responsiveness."""

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from services.access import Capability, require
from services.api.deps import ContainerDep, CurrentUser
from services.projections.bottleneck_leads import bottleneck_counts
from services.projections.monitoring import PartnerResponsiveness, bottlenecks, partner_responsiveness
from services.reports.api import aggregates_only
from services.reports.suppression import CellCount, suppress_by_leads

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])


class BottlenecksPublic(BaseModel):
    """Unresolved demands (no room found) by the lead's home region and demand kind.

    For the ministry a cell whose demands belong to 1 or 2 leads is `null`, and `total` is `null` when any
    cell is, so a hidden cell cannot be worked out from it.
    """

    total: int | None = Field(description="Unresolved demands in all; `null` when a cell is suppressed")
    by_region: dict[str, dict[str, CellCount]]
    suppressed: bool = Field(default=False, description="Small cells suppressed (the ministry's view)")


@router.get("/bottlenecks")
async def get_bottlenecks(user: CurrentUser, container: ContainerDep) -> BottlenecksPublic:
    """Unresolved demands by the lead's home region and demand kind: where the country lacks room."""
    require(user, Capability.SEE_MONITORING)
    if aggregates_only(user):
        return await _for_ministry(container.engine)
    found = await bottlenecks(container.engine)
    return BottlenecksPublic(total=found.total, by_region=dict(found.by_region))


async def _for_ministry(engine: AsyncEngine) -> BottlenecksPublic:
    counts = await bottleneck_counts(engine)
    grid = suppress_by_leads(counts.demands, counts.leads)
    complete = all(value is not None for row in grid.values() for value in row.values())
    total = sum(sum(row.values()) for row in counts.demands.values()) if complete else None
    return BottlenecksPublic(total=total, by_region=grid, suppressed=True)


@router.get("/partners")
async def get_partner_responsiveness(
    user: CurrentUser, container: ContainerDep
) -> list[PartnerResponsiveness]:
    """Per partner: requests, open and overdue ones, answers, reminders and median days to answer."""
    require(user, Capability.SEE_PARTNER_FIGURES)
    return await partner_responsiveness(container.engine, datetime.now(UTC).date())
