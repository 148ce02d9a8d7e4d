"""The partner registry: who the taskforce can ask, their contacts and webhook (admin manages it)."""

from fastapi import APIRouter, Response, status

from services.access import require_role
from services.api.deps import ContainerDep, CurrentUser
from services.api.problems import NotFoundError
from services.auth import Role
from services.partners import Partner, PartnerUpdate

router = APIRouter(prefix="/v1/partners", tags=["partner registry"])
_READERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.TASKFORCE})


@router.get("")
async def list_partners(user: CurrentUser, container: ContainerDep) -> list[Partner]:
    require_role(user, _READERS, "read the partner registry")
    return await container.registry.list()


@router.get("/{partner_id}")
async def get_partner(partner_id: str, user: CurrentUser, container: ContainerDep) -> Partner:
    require_role(user, _READERS, "read the partner registry")
    partner = await container.registry.get(partner_id)
    if partner is None:
        raise NotFoundError("no partner with this id")
    return partner


@router.put("/{partner_id}", responses={201: {"model": Partner}})
async def put_partner(
    partner_id: str, body: PartnerUpdate, user: CurrentUser, container: ContainerDep, response: Response
) -> Partner:
    """Create or replace a partner; the webhook secret is kept when not given again."""
    require_role(user, frozenset({Role.ADMIN}), "manage the partner registry")
    partner, created = await container.registry.put(partner_id, body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return partner
