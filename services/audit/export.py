"""The case-file export: a lead's events as CloudEvents 1.0 JSON lines, chained to the log head.

The format and its check are described in services/audit/verify_export.py, which needs only the file.
"""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from events.errors import LeadNotFoundError
from events.hashing import canonical_json, format_instant
from events.store import Actor
from services.audit.chain import chain_links, read_log_head, stream_rows
from services.audit.verify_export import EVENT_TYPE_PREFIX, LINK_TYPE, MANIFEST_TYPE
from workflows.payloads import workflow_id_for

SOURCE = "urn:nld:groeiruimte:event-log"
MEDIA_TYPE = "application/x-ndjson"
VERIFY_USAGE = "python -m services.audit.verify_export FILE"


def case_file_name(lead_id: UUID) -> str:
    return f"lead-{lead_id}.casefile.jsonl"


async def case_file(engine: AsyncEngine, lead_id: UUID, exported_by: Actor) -> str:
    """The whole case file; raises LeadNotFoundError for a lead without events."""
    return "".join(line + "\n" for line in await case_file_lines(engine, lead_id, exported_by))


async def case_file_lines(engine: AsyncEngine, lead_id: UUID, exported_by: Actor) -> list[str]:
    """The manifest, then every position from the lead's first event to the head (read first)."""
    stream_id = workflow_id_for(lead_id)
    head = await read_log_head(engine)
    stored = await stream_rows(engine, stream_id)
    rows = {row["position"]: row for row in stored if row["position"] <= head.position}
    if not rows:
        raise LeadNotFoundError("no lead has been signalled with this id")
    first = min(rows)
    manifest = {
        "format": 1,
        "lead_id": str(lead_id),
        "stream_id": stream_id,
        "events": len(rows),
        "first_position": first,
        "head": {"position": head.position, "hash": head.hash},
        "exported_by": exported_by.model_dump(),
        "hash": "SHA-256 over the canonical JSON of each event's envelope, chained by prevhash",
        "verify": VERIFY_USAGE,
    }
    lines = [_json(_manifest_event(lead_id, stream_id, manifest))]
    async for link in chain_links(engine, first, head.position):
        position = link["position"]
        lines.append(_json(_event(rows[position]) if position in rows else _link(link)))
    return lines


def _manifest_event(lead_id: UUID, stream_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "specversion": "1.0",
        "id": f"casefile-{lead_id}-{now.strftime('%Y%m%dT%H%M%S%fZ')}",
        "source": SOURCE,
        "type": MANIFEST_TYPE,
        "subject": stream_id,
        "time": format_instant(now),
        "datacontenttype": "application/json",
        "data": manifest,
    }


def _event(row: dict[str, Any]) -> dict[str, Any]:
    """One of the lead's events with its stored data (what was hashed) and its envelope as extensions."""
    return {
        "specversion": "1.0",
        "id": str(row["event_id"]),
        "source": SOURCE,
        "type": EVENT_TYPE_PREFIX + row["type"],
        "subject": row["stream_id"],
        "time": format_instant(row["occurred_at"]),
        "datacontenttype": "application/json",
        "dataschema": f"urn:nld:groeiruimte:event:{row['type']}:{row['schema_version']}",
        "data": row["data"],
        "position": row["position"],
        "streamversion": row["stream_version"],
        "schemaversion": row["schema_version"],
        "recordedat": format_instant(row["recorded_at"]),
        # CloudEvents extension values are scalars: the metadata object travels as canonical JSON text.
        "eventmetadata": canonical_json(row["metadata"]),
        "prevhash": row["prev_hash"],
        "hash": row["hash"],
    }


def _link(link: dict[str, Any]) -> dict[str, Any]:
    """Another stream's position: only what links the chain, nothing of its content."""
    return {
        "specversion": "1.0",
        "id": f"chain-{link['position']}",
        "source": SOURCE,
        "type": LINK_TYPE,
        "position": link["position"],
        "prevhash": link["prev_hash"],
        "hash": link["hash"],
    }


def _json(record: dict[str, Any]) -> str:
    return canonical_json(record)
