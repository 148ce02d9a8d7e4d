"""Rules of who is involved: identity disclosure, the case team, contact persons and their erasure."""

from events import commands as cmd
from events import model as ev
from events.decide.registry import ANY_BUT_CLOSED, WORKING, rule
from events.errors import InvalidCommandError, StageConflictError
from events.persons import MAX_CONTACTS_PER_LEAD
from events.reference import is_known_organisation
from events.state import LeadState, Stage


@rule(cmd.DiscloseIdentity, WORKING)
def _disclose(state: LeadState, command: cmd.DiscloseIdentity) -> list[ev.DomainEvent]:
    if not is_known_organisation(command.to_org):
        raise InvalidCommandError("unknown organisation", "to_org", "unknown")
    if command.to_org in state.disclosed_to:
        raise StageConflictError("the identity was already disclosed to this organisation", state.stage)
    return [ev.IdentityDisclosed(to_org=command.to_org, reason=command.reason)]


@rule(cmd.AddCaseTeamMember, WORKING)
def _add_to_case_team(state: LeadState, command: cmd.AddCaseTeamMember) -> list[ev.DomainEvent]:
    if not is_known_organisation(command.org):
        raise InvalidCommandError("unknown organisation", "org", "unknown")
    if command.org == state.details.owner_org:
        raise InvalidCommandError("the owning organisation leads the case already", "org", "owner")
    if command.org in state.case_team:
        raise StageConflictError("this organisation is on the case team already", state.stage)
    return [ev.CaseTeamMemberAdded(org=command.org, reason=command.reason)]


# Taking access away is always possible while the case lives, also on hold and after the decision.
@rule(cmd.RemoveCaseTeamMember, ANY_BUT_CLOSED)
def _remove_from_case_team(state: LeadState, command: cmd.RemoveCaseTeamMember) -> list[ev.DomainEvent]:
    if command.org not in state.case_team:
        raise InvalidCommandError("this organisation is not on the case team", "org", "not_a_member")
    return [ev.CaseTeamMemberRemoved(org=command.org, reason=command.reason)]


@rule(cmd.AddContactPerson, ANY_BUT_CLOSED)
def _add_contact(state: LeadState, command: cmd.AddContactPerson) -> list[ev.DomainEvent]:
    if state.contact(command.person_id) is not None:
        raise StageConflictError("this contact person is recorded already", state.stage)
    if len(state.contacts) >= MAX_CONTACTS_PER_LEAD:
        raise InvalidCommandError(f"at most {MAX_CONTACTS_PER_LEAD} contact persons", "person_id", "too_many")
    return [ev.ContactPersonAdded(person_id=command.person_id, sealed=command.sealed)]


# The right to erasure holds in every stage, also after the case is closed.
@rule(cmd.ErasePerson, frozenset(Stage))
def _erase_person(state: LeadState, command: cmd.ErasePerson) -> list[ev.DomainEvent]:
    contact = state.contact(command.person_id)
    if contact is None:
        raise InvalidCommandError("no such contact person on this lead", "person_id", "unknown")
    if contact.erased_at is not None:
        raise StageConflictError("this person's data was erased already", state.stage)
    return [ev.PersonalDataErased(person_id=command.person_id, reason=command.reason)]
