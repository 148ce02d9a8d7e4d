"""When a lead's workflow acts by itself: partner reminders, escalation, stale-lead nudges, aftercare.

Pure: from the state, the policy and the time, the next action and when it falls due.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from events import commands as cmd
from events.calendar import add_working_days
from events.reference import REALISED_OUTCOMES
from events.state import OPEN_STAGES, LeadState, PartnerRequest, Stage


class BrokeringPolicy(BaseModel):
    """The intervals of reminders, escalation, nudges and aftercare (settings, carried by the workflow)."""

    model_config = ConfigDict(frozen=True)

    reminder_interval_working_days: int = Field(default=5, ge=1)
    max_reminders: int = Field(default=3, ge=0)
    escalate_after_working_days: int = Field(default=5, ge=0)
    reminder_time_utc: time = time(8, 0)
    stale_after_days: float = Field(default=30, gt=0)
    aftercare_after_days: float = Field(default=180, gt=0)


class DueAction(BaseModel):
    """One thing the workflow will do at `at`."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    purpose: Literal["reminder", "escalation", "nudge", "aftercare"]
    request_id: UUID | None = None
    reminder_number: int = 0

    def command(self, now: datetime, state: LeadState) -> Any:
        """The system command that carries out this action."""
        if self.purpose == "reminder":
            assert self.request_id is not None
            return cmd.SendPartnerReminder(request_id=self.request_id, reminder_number=self.reminder_number)
        if self.purpose == "escalation":
            assert self.request_id is not None
            return cmd.EscalatePartnerRequest(request_id=self.request_id)
        if self.purpose == "nudge":
            return cmd.NudgeOwner(inactive_days=(now - state.last_activity_at).days)
        return cmd.RequestAftercare()


def _on_working_day(start: date, working_days: int, policy: BrokeringPolicy) -> datetime:
    return datetime.combine(add_working_days(start, working_days), policy.reminder_time_utc, tzinfo=UTC)


def reminder_at(request: PartnerRequest, number: int, policy: BrokeringPolicy) -> datetime:
    """Reminder 1 falls on the first working day after the due date; each next one an interval later."""
    return _on_working_day(request.due_date, 1 + (number - 1) * policy.reminder_interval_working_days, policy)


def escalation_at(request: PartnerRequest, policy: BrokeringPolicy) -> datetime:
    """An interval after the last reminder (or, with no reminders, the first working day after due)."""
    last = 1 + max(policy.max_reminders - 1, 0) * policy.reminder_interval_working_days
    extra = policy.escalate_after_working_days if policy.max_reminders else 0
    return _on_working_day(request.due_date, last + extra, policy)


def _request_action(request: PartnerRequest, policy: BrokeringPolicy) -> DueAction | None:
    if request.status != "open" or request.escalated:
        return None
    if request.reminders_sent < policy.max_reminders:
        number = request.reminders_sent + 1
        return DueAction(
            at=reminder_at(request, number, policy),
            purpose="reminder",
            request_id=request.request_id,
            reminder_number=number,
        )
    return DueAction(at=escalation_at(request, policy), purpose="escalation", request_id=request.request_id)


def due_actions(state: LeadState | None, policy: BrokeringPolicy) -> list[DueAction]:
    """Every pending action of the lead, earliest first."""
    if state is None:
        return []
    actions: list[DueAction] = []
    if state.stage is Stage.BROKERING:
        actions += [a for r in state.partner_requests if (a := _request_action(r, policy)) is not None]
    if state.stage in OPEN_STAGES:
        quiet_since = max(state.last_activity_at, state.last_nudged_at or state.last_activity_at)
        actions.append(DueAction(at=quiet_since + timedelta(days=policy.stale_after_days), purpose="nudge"))
    if _awaits_aftercare(state):
        assert state.outcome is not None
        at = state.outcome.recorded_at + timedelta(days=policy.aftercare_after_days)
        actions.append(DueAction(at=at, purpose="aftercare"))
    return sorted(actions, key=lambda action: action.at)


def _awaits_aftercare(state: LeadState) -> bool:
    return (
        state.stage is Stage.DECIDED
        and state.outcome is not None
        and state.outcome.code in REALISED_OUTCOMES
        and state.aftercare_requested_at is None
        and state.confirmed_investment_eur is None
    )
