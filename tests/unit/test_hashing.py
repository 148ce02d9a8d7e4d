"""Tamper evidence: the envelope hash covers every field and the chain; times have one textual form."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from events.hashing import GENESIS_HASH, canonical_json, envelope_hash, format_instant

ENVELOPE: dict[str, Any] = {
    "position": 7,
    "event_id": "0b8f3f1e-6a3a-4d0e-9a57-0f0c2b4f5e01",
    "stream_id": "lead-7d3c9a52-1f4e-4b8a-9c61-2a5e0b7d4f11",
    "stream_version": 3,
    "event_type": "DemandArticulated",
    "schema_version": 1,
    "occurred_at": datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
    "recorded_at": datetime(2025, 3, 3, 9, 0, 1, 250000, tzinfo=UTC),
    "data": {"demand_id": "d1", "spec": {"kind": "space", "floor_area_m2": 4000.0}},
    "metadata": {"actor": {"sub": "anne", "org": "bom", "role": "taskforce"}, "reason": None},
    "prev_hash": "a" * 64,
}

CHANGED: dict[str, Any] = {
    "position": 8,
    "event_id": "0b8f3f1e-6a3a-4d0e-9a57-0f0c2b4f5e02",
    "stream_id": "lead-00000000-0000-4000-8000-000000000000",
    "stream_version": 4,
    "event_type": "DemandRevised",
    "schema_version": 2,
    "occurred_at": datetime(2025, 3, 3, 9, 0, 0, 1, tzinfo=UTC),
    "recorded_at": datetime(2025, 3, 4, 9, 0, 1, 250000, tzinfo=UTC),
    "data": {"demand_id": "d1", "spec": {"kind": "space", "floor_area_m2": 4001.0}},
    "metadata": {"actor": {"sub": "anne", "org": "bom", "role": "coordinator"}, "reason": None},
    "prev_hash": GENESIS_HASH,
}


def test_envelope_hash_is_a_stable_sha256_hex_digest() -> None:
    first = envelope_hash(**ENVELOPE)

    assert first == envelope_hash(**dict(ENVELOPE))
    assert len(first) == 64
    assert set(first) <= set("0123456789abcdef")


def test_every_field_has_a_changed_value_to_try() -> None:
    assert set(CHANGED) == set(ENVELOPE)


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_envelope_hash_changes_when_any_field_changes(field: str) -> None:
    assert envelope_hash(**{**ENVELOPE, field: CHANGED[field]}) != envelope_hash(**ENVELOPE)


def test_envelope_hash_ignores_key_order_of_data_and_metadata() -> None:
    reordered = {
        **ENVELOPE,
        "data": {"spec": {"floor_area_m2": 4000.0, "kind": "space"}, "demand_id": "d1"},
        "metadata": {"reason": None, "actor": {"role": "taskforce", "org": "bom", "sub": "anne"}},
    }

    assert envelope_hash(**reordered) == envelope_hash(**ENVELOPE)


def test_envelope_hash_depends_on_the_instant_not_the_time_zone_it_is_written_in() -> None:
    cet = timezone(timedelta(hours=1))
    same_instant = {**ENVELOPE, "occurred_at": datetime(2025, 3, 3, 10, 0, tzinfo=cet)}

    assert envelope_hash(**same_instant) == envelope_hash(**ENVELOPE)


def test_canonical_json_is_independent_of_key_order() -> None:
    one = {"b": 1, "a": {"d": [3, {"y": 2, "x": 1}], "c": "é"}}
    other = {"a": {"c": "é", "d": [3, {"x": 1, "y": 2}]}, "b": 1}

    assert canonical_json(one) == canonical_json(other)
    assert canonical_json(one) == '{"a":{"c":"é","d":[3,{"x":1,"y":2}]},"b":1}'


def test_canonical_json_keeps_list_order() -> None:
    assert canonical_json([1, 2]) != canonical_json([2, 1])


def test_format_instant_gives_utc_with_microseconds_and_z() -> None:
    assert format_instant(datetime(2025, 3, 3, 9, 0, tzinfo=UTC)) == "2025-03-03T09:00:00.000000Z"
    assert format_instant(datetime(2025, 3, 3, 9, 0, 5, 123456, tzinfo=UTC)) == "2025-03-03T09:00:05.123456Z"


def test_format_instant_converts_other_time_zones_to_utc() -> None:
    cest = timezone(timedelta(hours=2))

    assert format_instant(datetime(2025, 7, 1, 0, 30, 0, 42, tzinfo=cest)) == "2025-06-30T22:30:00.000042Z"


def test_format_instant_reads_a_naive_time_as_utc() -> None:
    assert format_instant(datetime(2025, 3, 3, 9, 0)) == "2025-03-03T09:00:00.000000Z"
