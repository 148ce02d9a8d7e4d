"""Who may see and do what (DESIGN §8): one matrix, applied by the routes, the queries and the UI alike.

Two tables decide everything:

- `CAPABILITIES`: what each role may do that is not about one lead (list leads, inbox, monitoring, …);
- `lead_access`: how much of one lead a caller may see or do, from its role, its organisation, the lead's
  owner and case team. A caller with `LeadAccess.NONE` may not know the lead exists, so every lead route
  answers it 404 exactly as for an unknown id (never 403).

Identity (the company's name, KvK number and website) is a separate question, `sees_identity`: the owning
organisation, the coordinator, auditors and organisations it was disclosed to — not the case team as such.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TypeVar
from uuid import UUID

from events.errors import LeadNotFoundError
from events.state import ContactPerson, LeadState
from services.auth import Principal, Role
from services.projections.lead_list import LeadScope


class ForbiddenError(Exception):
    """The caller is authenticated but may not do this."""


class NotFoundError(Exception):
    """An unknown resource other than a lead (or one the caller may not know exists)."""


class Capability(StrEnum):
    READ_LEADS = "read lead-level data"
    LIST_LEADS = "list leads"
    SIGNAL_LEADS = "signal leads"
    READ_INBOX = "read a partner inbox"
    SEE_MONITORING = "see monitoring figures"
    SEE_PARTNER_FIGURES = "see partner figures"
    READ_REGISTRY = "read the partner registry"
    MANAGE_REGISTRY = "manage the partner registry"
    VERIFY_LOG = "verify the event log"
    READ_ACCESS_LOG = "read the access log"
    DECODE_PAYLOADS = "decode Temporal payloads"
    ERASE_PERSONS = "erase contact persons' personal data"


_T, _C, _P, _A, _M, _ADM = (
    Role.TASKFORCE,
    Role.COORDINATOR,
    Role.PARTNER,
    Role.AUDITOR,
    Role.MINISTRY,
    Role.ADMIN,
)
CAPABILITIES: dict[Capability, frozenset[Role]] = {
    Capability.READ_LEADS: frozenset({_T, _C, _A}),
    Capability.LIST_LEADS: frozenset({_T, _C, _A}),
    Capability.SIGNAL_LEADS: frozenset({_T, _C}),
    Capability.READ_INBOX: frozenset({_P, _T, _C}),
    Capability.SEE_MONITORING: frozenset({_T, _C, _A, _M}),
    Capability.SEE_PARTNER_FIGURES: frozenset({_T, _C, _A}),
    Capability.READ_REGISTRY: frozenset({_ADM, _C, _T}),
    Capability.MANAGE_REGISTRY: frozenset({_ADM}),
    Capability.VERIFY_LOG: frozenset({_A, _C}),
    Capability.READ_ACCESS_LOG: frozenset({_A, _C}),
    Capability.DECODE_PAYLOADS: frozenset({_ADM, _A}),
    Capability.ERASE_PERSONS: frozenset({_T, _C}),
}


class LeadAccess(IntEnum):
    NONE = 0  # may not know the lead exists: 404
    BRIEF = 1  # code name, stage, home region and domains
    READ = 2  # everything, never a change (auditors)
    WRITE = 3  # read and change (the case team)
    MANAGE = 4  # also the case team and identity disclosures (the owning organisation, the coordinator)


def _taskforce_access(org: str, owner_org: str, case_team: Collection[str]) -> LeadAccess:
    if org == owner_org:
        return LeadAccess.MANAGE
    return LeadAccess.WRITE if org in case_team else LeadAccess.BRIEF


def lead_access(principal: Principal, owner_org: str, case_team: Collection[str] = ()) -> LeadAccess:
    """The most a caller's roles allow on a lead owned by `owner_org` with this case team."""
    levels = {
        Role.COORDINATOR: LeadAccess.MANAGE,
        Role.AUDITOR: LeadAccess.READ,
        Role.TASKFORCE: _taskforce_access(principal.org, owner_org, case_team),
    }
    return max((levels.get(role, LeadAccess.NONE) for role in principal.roles), default=LeadAccess.NONE)


@dataclass(frozen=True)
class LeadParties:
    """All that access and identity decisions read of a lead: its owner, case team, the organisations
    its identity is disclosed to, and its contact persons. Read without the whole state where it can be."""

    owner_org: str
    case_team: Sequence[str]
    disclosed_to: Sequence[str]
    contacts: Sequence[ContactPerson]
    # The live keys of its contact persons (erased ones have none), when read in the same statement as
    # the rest (services/lead_reads.py); None when they were not read with it.
    keys: Mapping[UUID, bytes] | None = field(default=None, compare=False, kw_only=True)

    @classmethod
    def of(cls, state: LeadState) -> "LeadParties":
        return cls(state.details.owner_org, state.case_team, state.disclosed_to, state.contacts)


Lead = TypeVar("Lead", bound=LeadState | LeadParties)


def _owner(lead: LeadState | LeadParties) -> str:
    return lead.details.owner_org if isinstance(lead, LeadState) else lead.owner_org


def access_to(principal: Principal, lead: LeadState | LeadParties) -> LeadAccess:
    return lead_access(principal, _owner(lead), lead.case_team)


def sees_identity(principal: Principal, lead: LeadState | LeadParties) -> bool:
    """Who sees the company's name, KvK number and website: owner, coordinator, auditors, disclosed-to."""
    if principal.roles & {Role.COORDINATOR, Role.AUDITOR}:
        return True
    owner = Role.TASKFORCE in principal.roles and principal.org == _owner(lead)
    return owner or principal.org in lead.disclosed_to


def require(principal: Principal, capability: Capability) -> None:
    if not principal.roles & CAPABILITIES[capability]:
        raise ForbiddenError(f"your role may not {capability.value}")


def require_role(principal: Principal, allowed: frozenset[Role], action: str) -> None:
    if not principal.roles & allowed:
        raise ForbiddenError(f"your role may not {action}")


def require_lead(principal: Principal, state: Lead | None, needed: LeadAccess) -> Lead:
    """The lead, when the caller has at least `needed` access; 404 for unknown or hidden, else 403."""
    access = LeadAccess.NONE if state is None else access_to(principal, state)
    if state is None or access is LeadAccess.NONE:
        raise LeadNotFoundError("no lead has been signalled with this id")
    if access < needed:
        raise ForbiddenError(_REFUSALS[needed])
    return state


_REFUSALS = {
    LeadAccess.BRIEF: "you may not see this lead",
    LeadAccess.READ: "this lead is owned by another organisation; you see its code name only",
    LeadAccess.WRITE: "only the owning organisation, its case team and the coordinator change this lead",
    LeadAccess.MANAGE: "only the owning organisation and the coordinator manage this lead's team and NDA",
}


def require_lead_reading_role(principal: Principal) -> None:
    """Roles that never read lead-level data are told a lead does not exist (before anything is loaded)."""
    if not principal.roles & CAPABILITIES[Capability.READ_LEADS]:
        raise LeadNotFoundError("no lead has been signalled with this id")


def require_signal(principal: Principal, owner_org: str) -> None:
    """Taskforce users signal leads for their own organisation; the coordinator for any."""
    require(principal, Capability.SIGNAL_LEADS)
    if Role.COORDINATOR not in principal.roles and principal.org != owner_org:
        raise ForbiddenError("you may only signal leads for your own organisation")


def require_partner_answer(principal: Principal, partner_id: str, state: LeadState) -> None:
    """The addressed partner answers; the lead's writers may record an answer given offline.

    Whoever may not see the lead's requests (not even that it has them) is told it does not exist.
    """
    if Role.PARTNER in principal.roles:
        if principal.org == partner_id:
            return
        # Issue 3: a partner answering a request addressed to another organisation is refused (403);
        # a request id is not a lead id, and this says nothing about the lead behind it.
        raise ForbiddenError("this request is addressed to another organisation")
    access = access_to(principal, state)
    if access < LeadAccess.READ:
        raise NotFoundError("no partner request with this id")
    if access < LeadAccess.WRITE:
        raise ForbiddenError(_REFUSALS[LeadAccess.WRITE])


def lead_scope(principal: Principal) -> LeadScope:
    """The caller's view of the lead list (the same matrix, as SQL conditions)."""
    require(principal, Capability.LIST_LEADS)
    if principal.roles & {Role.COORDINATOR, Role.AUDITOR}:
        return LeadScope()
    return LeadScope(org=principal.org)
