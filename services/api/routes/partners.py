"""The partner registry: who the taskforce can ask, their contacts and webhook (admin manages it)."""

from fastapi import APIRouter, Response, status

from events.details import OrgSlug
from services.access import Capability, require
from services.api.deps import ContainerDep, CurrentUser
from services.api.problems import NotFoundError
from services.partners import Partner, PartnerUpdate

router = APIRouter(prefix="/v1/partners", tags=["partner registry"])


@router.get("")
async def list_partners(user: CurrentUser, container: ContainerDep) -> list[Partner]:
    require(user, Capability.READ_REGISTRY)
    return await container.registry.list()


@router.get("/{partner_id}")
async def get_partner(partner_id: OrgSlug, user: CurrentUser, container: ContainerDep) -> Partner:
    require(user, Capability.READ_REGISTRY)
    partner = await container.registry.get(partner_id)
    if partner is None:
        raise NotFoundError("no partner with this id")
    return partner


@router.put("/{partner_id}", responses={201: {"model": Partner}})
async def put_partner(
    partner_id: OrgSlug, body: PartnerUpdate, user: CurrentUser, container: ContainerDep, response: Response
) -> Partner:
    """Create or replace a partner; the webhook secret is kept when not given again."""
    require(user, Capability.MANAGE_REGISTRY)
    partner, created = await container.registry.put(partner_id, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return partner
