"""Tamper evidence: SHA-256 over the canonical JSON of an event envelope, chained by prev_hash."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def format_instant(moment: datetime) -> str:
    """UTC with microseconds and a Z: the one textual form of a time in hashes and APIs."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def envelope_hash(
    *,
    position: int,
    event_id: str,
    stream_id: str,
    stream_version: int,
    event_type: str,
    schema_version: int,
    occurred_at: datetime,
    recorded_at: datetime,
    data: dict[str, Any],
    metadata: dict[str, Any],
    prev_hash: str,
) -> str:
    """The hash of one envelope, including the previous event's hash."""
    envelope = {
        "position": position,
        "event_id": event_id,
        "stream_id": stream_id,
        "stream_version": stream_version,
        "type": event_type,
        "schema_version": schema_version,
        "occurred_at": format_instant(occurred_at),
        "recorded_at": format_instant(recorded_at),
        "data": data,
        "metadata": metadata,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(envelope).encode()).hexdigest()
