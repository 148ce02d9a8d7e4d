"""Verify a groeiruimte case file offline, with nothing but the file and Python's standard library.

    python -m services.audit.verify_export lead-<uuid>.casefile.jsonl
    python verify_export.py lead-<uuid>.casefile.jsonl        # this file copied anywhere

A case file is JSON lines of CloudEvents 1.0: first a manifest, then one line per log position from the
lead's first event to the log head at export time — the lead's own events in full, every other
position only as a chain link (position, prevhash, hash), so nothing of other leads is disclosed.
The check recomputes the SHA-256 of each of the lead's events over the canonical JSON of its envelope,
follows the links from prevhash to hash up to the head, and checks the lead's stream versions run
1, 2, 3, … without a gap. Compare the head hash it prints with one obtained independently (the
verification endpoint, `groeiruimte audit verify`, or an earlier export): a match proves the lead's
events are exactly as recorded. Exit status: 0 verified, 1 broken, 2 not readable.

Deliberately imports nothing from the rest of the project.
"""

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MANIFEST_TYPE = "nl.groeiruimte.casefile.manifest"
LINK_TYPE = "nl.groeiruimte.chain.link"
EVENT_TYPE_PREFIX = "nl.groeiruimte.lead."
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Verdict:
    """What the walk found: lead events recomputed, other positions linked, and the first break."""

    ok: bool
    events: int
    links: int
    first_broken_position: int | None = None
    problem: str | None = None
    head_position: int | None = None
    head_hash: str | None = None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def envelope_hash(record: dict[str, Any]) -> str:
    """The hash the event log computed when it recorded this event (see events/hashing.py)."""
    envelope = {
        "position": record["position"],
        "event_id": record["id"],
        "stream_id": record["subject"],
        "stream_version": record["streamversion"],
        "type": record["type"].removeprefix(EVENT_TYPE_PREFIX),
        "schema_version": record["schemaversion"],
        "occurred_at": record["time"],
        "recorded_at": record["recordedat"],
        "data": record["data"],
        "metadata": json.loads(record["eventmetadata"]),
        "prev_hash": record["prevhash"],
    }
    return hashlib.sha256(canonical_json(envelope).encode()).hexdigest()


class _Walk:
    """Position by position from the lead's first event to the head named in the manifest."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.stream_id: str = manifest["stream_id"]
        self.expected_events: int = manifest["events"]
        self.head: dict[str, Any] = manifest["head"]
        self.position: int = manifest["first_position"] - 1
        self.hash: str | None = None
        self.events = 0
        self.links = 0

    def check(self, record: dict[str, Any]) -> str | None:
        """Why this line breaks the chain, or None (then it is the last good position)."""
        if record["position"] != self.position + 1:
            return f"position {record['position']} follows {self.position}: lines are missing or moved"
        if self.hash is not None and record["prevhash"] != self.hash:
            return "prevhash is not the hash of the preceding position"
        if not _HASH.match(record["hash"]):
            return "hash is not a SHA-256 hex digest"
        kind = record["type"]
        problem = self._check_event(record) if kind.startswith(EVENT_TYPE_PREFIX) else _check_link(kind)
        if problem is None:
            self.position, self.hash = record["position"], record["hash"]
            self.links += not kind.startswith(EVENT_TYPE_PREFIX)
        return problem

    def _check_event(self, record: dict[str, Any]) -> str | None:
        if record["subject"] != self.stream_id:
            return f"an event of {record['subject']} is in a case file of {self.stream_id}"
        if record["streamversion"] != self.events + 1:
            return f"stream version {record['streamversion']} follows {self.events}: events are missing"
        if envelope_hash(record) != record["hash"]:
            return "hash does not match the event's content"
        self.events += 1
        return None

    def finish(self) -> str | None:
        if (self.position, self.hash) != (self.head["position"], self.head["hash"]):
            return f"the chain does not end at the head the manifest names (position {self.head['position']})"
        if self.events != self.expected_events:
            return f"the manifest announces {self.expected_events} events, the file has {self.events}"
        return None

    def verdict(self, problem: str | None = None) -> Verdict:
        return Verdict(
            ok=problem is None,
            events=self.events,
            links=self.links,
            first_broken_position=None if problem is None else self.position + 1,
            problem=problem,
            head_position=self.head["position"],
            head_hash=self.head["hash"],
        )


def _check_link(kind: str) -> str | None:
    return None if kind == LINK_TYPE else f"unknown line type {kind!r}"


def _manifest(line: str) -> dict[str, Any]:
    record = json.loads(line)
    if record.get("type") != MANIFEST_TYPE:
        raise ValueError("the first line is not a case-file manifest")
    manifest: dict[str, Any] = record["data"]
    return manifest


def verify_case_file(lines: Iterable[str]) -> Verdict:
    """Walk a case file's lines; the verdict names the first broken position, if any."""
    records = (line for line in lines if line.strip())
    try:
        walk = _Walk(_manifest(next(records)))
    except (StopIteration, ValueError, KeyError, TypeError) as error:
        return Verdict(ok=False, events=0, links=0, problem=f"not a case file: {error!r}")
    for number, line in enumerate(records, start=2):
        try:
            problem = walk.check(json.loads(line))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            problem = f"line {number} is malformed: {error!r}"
        if problem is not None:
            return walk.verdict(problem)
    return walk.verdict(walk.finish())


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m services.audit.verify_export CASE_FILE", file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as case_file:
            verdict = verify_case_file(case_file)
    except OSError as error:
        print(f"cannot read {argv[0]}: {error}", file=sys.stderr)
        return 2
    if not verdict.ok:
        print(f"BROKEN at position {verdict.first_broken_position}: {verdict.problem}")
        return 1
    print(
        f"OK: {verdict.events} events verified, {verdict.links} other positions linked, "
        f"up to the log head at position {verdict.head_position} with hash {verdict.head_hash}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
