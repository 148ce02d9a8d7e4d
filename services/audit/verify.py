"""Verifying the hash chain: of the whole log, or of one lead from its first event to the log head."""

from datetime import UTC, datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from events.store import Actor
from services.audit.chain import read_log_head
from services.audit.export import case_file_lines
from services.audit.verify_export import verify_case_file
from services.persistence.event_store import SqlEventStore
from workflows.payloads import workflow_id_for

_VERIFIER = Actor(sub="groeiruimte-verification", org="groeiruimte", role="system")


class VerificationReport(BaseModel):
    """How many events verified, and the first broken position with what is wrong, if any."""

    model_config = ConfigDict(frozen=True)

    scope: str
    ok: bool
    verified: int
    first_broken_position: int | None = None
    problem: str | None = None
    head_position: int
    head_hash: str
    checked_at: AwareDatetime


async def verify_log(store: SqlEventStore) -> VerificationReport:
    """Recompute every hash and follow every link of the log, up to its head."""
    head = await read_log_head(store.engine)
    result = await store.verify_chain()
    return VerificationReport(
        scope="log",
        ok=result.ok,
        verified=result.verified,
        first_broken_position=result.first_broken_position,
        problem=result.problem,
        head_position=head.position,
        head_hash=head.hash,
        checked_at=datetime.now(UTC),
    )


async def verify_lead(store: SqlEventStore, lead_id: UUID) -> VerificationReport:
    """Check the lead's case file as an auditor would offline: its events' hashes, the links to the
    head and its stream versions without a gap (a deleted event shows, unlike a per-row check)."""
    verdict = verify_case_file(await case_file_lines(store.engine, lead_id, _VERIFIER))
    return VerificationReport(
        scope=workflow_id_for(lead_id),
        ok=verdict.ok,
        verified=verdict.events,
        first_broken_position=verdict.first_broken_position,
        problem=verdict.problem,
        head_position=verdict.head_position or 0,
        head_hash=verdict.head_hash or "",
        checked_at=datetime.now(UTC),
    )
