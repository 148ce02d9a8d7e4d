"""Monitoring against the programme's impact targets (DESIGN §7)."""

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import AwareDatetime

from services.access import Capability, require
from services.api.deps import ContainerDep, CurrentUser
from services.audit.impact import impact_from_log
from services.projections.impact import ImpactReport
from services.projections.queries import impact_figures, pipeline

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])


@router.get("/impact")
async def get_impact(
    user: CurrentUser,
    container: ContainerDep,
    as_of: AwareDatetime | None = None,
    known_at: AwareDatetime | None = None,
) -> ImpactReport:
    """The five impact figures with their full and pro-rata targets, as of a moment (default now).

    With `known_at` they are recomputed from the event log as the system knew it then (reproducible).
    """
    require(user, Capability.SEE_MONITORING)
    settings, moment = container.settings, as_of or datetime.now(UTC)
    if known_at is not None:
        return await impact_from_log(
            container.store,
            targets=settings.targets,
            programme_start=settings.programme_start,
            programme_end=settings.programme_end,
            as_of=moment,
            known_at=known_at,
        )
    return await impact_figures(
        container.engine,
        targets=settings.targets,
        programme_start=settings.programme_start,
        programme_end=settings.programme_end,
        as_of=moment,
    )


@router.get("/pipeline")
async def get_pipeline(user: CurrentUser, container: ContainerDep) -> dict[str, int]:
    """The funnel: how many leads are in each stage."""
    require(user, Capability.SEE_MONITORING)
    return await pipeline(container.engine)
