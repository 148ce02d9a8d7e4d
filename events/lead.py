"""Folding a lead's history: the state after a sequence of (event, occurred_at) pairs."""

from collections.abc import Iterable
from datetime import datetime

from events.evolve import evolve_all
from events.model import DomainEvent
from events.state import LeadState


def fold(history: Iterable[tuple[DomainEvent, datetime]], state: LeadState | None = None) -> LeadState | None:
    """Replay events in order onto `state` (from nothing by default); None when there is nothing.
    `state` itself is not changed."""
    return evolve_all(state, history)
