"""Monitoring of brokering: bottlenecks by region and demand kind, partner responsiveness."""

from datetime import UTC, datetime

from fastapi import APIRouter

from services.access import Capability, require
from services.api.deps import ContainerDep, CurrentUser
from services.projections.monitoring import (
    Bottlenecks,
    PartnerResponsiveness,
    bottlenecks,
    partner_responsiveness,
)

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])


@router.get("/bottlenecks")
async def get_bottlenecks(user: CurrentUser, container: ContainerDep) -> Bottlenecks:
    """Unresolved demands by the lead's home region and demand kind: where the country lacks room."""
    require(user, Capability.SEE_MONITORING)
    return await bottlenecks(container.engine)


@router.get("/partners")
async def get_partner_responsiveness(
    user: CurrentUser, container: ContainerDep
) -> list[PartnerResponsiveness]:
    """Per partner: requests, open and overdue ones, answers, reminders and median days to answer."""
    require(user, Capability.SEE_PARTNER_FIGURES)
    return await partner_responsiveness(container.engine, datetime.now(UTC).date())
