"""Payloads that cross the Temporal boundary (`…Input` / `…Result`), serialised by the pydantic converter."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from events.brokering import BrokeringPolicy
from events.commands import Command
from events.state import LeadState
from events.store import Actor, NewEvent, StoredEvent

TASK_QUEUE = "groeiruimte-leads"


def workflow_id_for(lead_id: UUID) -> str:
    """`lead-<uuid>`: no company data in ids."""
    return f"lead-{lead_id}"


class CommandInput(BaseModel):
    """One staff or partner command for a lead, with who sent it and why."""

    model_config = ConfigDict(frozen=True)

    command: Command
    actor: Actor
    occurred_at: datetime | None = None
    reason: str | None = None
    correlation_id: str | None = None


class CommandResult(BaseModel):
    """The events a command recorded. The lead's state after them is rebuilt by the caller from the
    state it knew and these events: a busy lead's state would outgrow Temporal's payload limits if
    every answer carried it (runs of older code sent it). The answers kept for repeated requests hold
    only the stream versions of their events (`versions`, first and last); the caller reads those."""

    events: list[StoredEvent] = Field(default_factory=list)
    state: LeadState | None = None
    versions: tuple[int, int] | None = None

    def remembered(self) -> "CommandResult":
        """The answer as kept for a repeat: the versions of its events, not the events."""
        if not self.events:
            return CommandResult(versions=self.versions)
        return CommandResult(versions=(self.events[0].stream_version, self.events[-1].stream_version))


class DeliveryInput(BaseModel):
    """One notification to deliver (e-mail and/or webhook); `delivery_id` makes it happen once."""

    model_config = ConfigDict(frozen=True)

    delivery_id: str
    purpose: Literal["request", "reminder", "escalation", "nudge", "aftercare"]
    lead_id: UUID
    request_id: UUID | None = None
    reminder_number: int = 0


class LeadWorkflowInput(BaseModel):
    """Start (or continue-as-new) input; carries state, pending deliveries and recent answers."""

    lead_id: UUID
    state: LeadState | None = None
    recent_results: dict[str, CommandResult] = Field(default_factory=dict)
    continue_as_new_after_events: int = 2000
    policy: BrokeringPolicy = Field(default_factory=BrokeringPolicy)
    outbox: list[DeliveryInput] = Field(default_factory=list)


class AppendInput(BaseModel):
    stream_id: str
    expected_version: int
    events: list[NewEvent]
