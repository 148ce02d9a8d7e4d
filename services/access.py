"""Who may see and do what (DESIGN §8), as pure functions the routes and queries share."""

from events.state import LeadState
from services.auth import Principal, Role


class ForbiddenError(Exception):
    """The caller is authenticated but may not do this."""


_LEAD_READERS = frozenset({Role.TASKFORCE, Role.COORDINATOR, Role.AUDITOR})
_WRITERS = frozenset({Role.TASKFORCE, Role.COORDINATOR})


def require_role(principal: Principal, allowed: frozenset[Role], action: str) -> None:
    if not principal.roles & allowed:
        raise ForbiddenError(f"your role may not {action}")


def require_lead_reader(principal: Principal) -> None:
    """Lead-level data is for the taskforce, the coordinator and auditors."""
    require_role(principal, _LEAD_READERS, "read lead-level data")


def may_see_full_lead(principal: Principal, owner_org: str) -> bool:
    """Full details for the owning organisation, the coordinator and auditors; others see a code name."""
    if principal.roles & {Role.COORDINATOR, Role.AUDITOR}:
        return True
    return Role.TASKFORCE in principal.roles and principal.org == owner_org


def may_see_identity(principal: Principal, state: LeadState) -> bool:
    return may_see_full_lead(principal, state.details.owner_org) or principal.org in state.disclosed_to


def require_signal(principal: Principal, owner_org: str) -> None:
    """Taskforce users signal leads for their own organisation; the coordinator for any."""
    require_role(principal, _WRITERS, "signal leads")
    if Role.COORDINATOR not in principal.roles and principal.org != owner_org:
        raise ForbiddenError("you may only signal leads for your own organisation")


def require_change(principal: Principal, state: LeadState) -> None:
    """Changes are for the owning organisation's taskforce and the coordinator."""
    require_role(principal, _WRITERS, "change leads")
    if Role.COORDINATOR not in principal.roles and principal.org != state.details.owner_org:
        raise ForbiddenError("this lead is owned by another organisation")


def require_full_read(principal: Principal, state: LeadState) -> None:
    require_lead_reader(principal)
    if not may_see_full_lead(principal, state.details.owner_org):
        raise ForbiddenError("this lead is owned by another organisation")


def require_partner_answer(principal: Principal, partner_id: str, state: LeadState) -> None:
    """The addressed partner answers; the owning taskforce may record an answer given offline."""
    if Role.PARTNER in principal.roles and principal.org == partner_id:
        return
    require_change(principal, state)
