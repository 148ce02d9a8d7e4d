"""Monitoring against the programme's impact targets (DESIGN §7)."""

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import AwareDatetime, RootModel

from events.state import OPEN_STAGES, Stage
from services.access import Capability, require
from services.api.deps import ContainerDep, CurrentUser
from services.audit.impact import impact_from_log
from services.projections.impact import ImpactReport
from services.projections.queries import impact_figures, pipeline
from services.reports.api import aggregates_only
from services.reports.suppression import CellCount, suppress_against_totals

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


class PipelinePublic(RootModel[dict[str, CellCount]]):
    """Leads per current stage, every stage present. For the ministry a stage of 1 or 2 leads is `null`,
    and so is any stage that would let such a stage be worked out from the public number of leads."""


# Stage sums the ministry can work out elsewhere: all leads (impact figures), those with an outcome (the
# funnel's decided) and so those without one.
ALL_STAGES = tuple(stage.value for stage in Stage)
NOT_DECIDED = tuple(stage.value for stage in (*OPEN_STAGES, Stage.ON_HOLD))
DECIDED = (Stage.DECIDED.value, Stage.CLOSED.value)


@router.get("/pipeline")
async def get_pipeline(user: CurrentUser, container: ContainerDep) -> PipelinePublic:
    """The funnel: how many leads are in each stage (small cells suppressed for the ministry)."""
    require(user, Capability.SEE_MONITORING)
    stages = await pipeline(container.engine)
    if aggregates_only(user):
        return PipelinePublic(suppress_against_totals(stages, ALL_STAGES, NOT_DECIDED, DECIDED))
    return PipelinePublic(dict(stages))
