"""Logged reads (after the Dutch "Logboek dataverwerkingen" standard): who read which lead, when and why."""

import asyncio
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.audit.tables import access_log
from services.auth import Principal, Role
from services.persistence.driver import DriverStatement

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,64}$")


class ProcessingActivity(StrEnum):
    """The registered processing activities a read serves (the standard's `processing_activity_id`)."""

    CASUSBEHANDELING = "casusbehandeling"  # the taskforce working on a case
    VERANTWOORDING = "verantwoording"  # accountability: audits, reports, case-file exports


class AccessEntry(BaseModel):
    """One read of one lead's data."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    sub: str
    org: str
    role: str
    lead_id: str
    endpoint: str
    trace_id: str
    processing_activity: ProcessingActivity


class AccessEntryPublic(AccessEntry):
    id: int


class AccessLogPage(BaseModel):
    count: int
    results: list[AccessEntryPublic]


def trace_id_from(headers: Mapping[str, str], generated: str | None = None) -> str:
    """The W3C `traceparent` trace id, else a well-formed `X-Correlation-ID`, else the id the request
    was given on arrival (`generated`: the edge's, in the answer's X-Correlation-ID), else a new id."""
    traceparent = _TRACEPARENT.match(headers.get("traceparent", "").strip().lower())
    if traceparent and traceparent.group(1) != "0" * 32:
        return traceparent.group(1)
    correlation_id = headers.get("x-correlation-id", "").strip()
    if _CORRELATION_ID.match(correlation_id):
        return correlation_id
    if generated is not None and _CORRELATION_ID.match(generated):
        return generated
    return uuid.uuid4().hex


def activity_of(principal: Principal) -> ProcessingActivity:
    """Auditors read to hold the programme to account; everyone else to work on the case."""
    if principal.role is Role.AUDITOR:
        return ProcessingActivity.VERANTWOORDING
    return ProcessingActivity.CASUSBEHANDELING


@dataclass(frozen=True)
class AccessEntries:
    """One request's reads: an entry per lead, each with the same moment, caller, endpoint, trace and
    activity (a page of 20 leads is 20 entries that differ only in the lead)."""

    at: datetime
    sub: str
    org: str
    role: str
    lead_ids: Sequence[str]
    endpoint: str
    trace_id: str
    processing_activity: ProcessingActivity


_COMMON = ("at", "sub", "org", "role", "endpoint", "trace_id", "processing_activity")
_COLUMNS = ", ".join((*_COMMON, "lead_id"))
# PostgreSQL: every entry of a group commit in one statement of eight array parameters, whatever their
# number — a multi-row VALUES list would be a new statement text (parsed again) for every count.
# On the driver (services/persistence/driver.py): the statement is its own transaction, one round trip.
_UNNESTED = DriverStatement(
    text(
        f"INSERT INTO access_log ({_COLUMNS}) SELECT * FROM unnest("
        "CAST(:at AS timestamptz[]), CAST(:sub AS text[]), CAST(:org AS text[]), CAST(:role AS text[]), "
        "CAST(:endpoint AS text[]), CAST(:trace_id AS text[]), CAST(:processing_activity AS text[]), "
        "CAST(:lead_id AS text[]))"
    )
)


async def write_entries(engine: AsyncEngine, groups: Sequence[AccessEntries]) -> None:
    """Append the groups' entries in one transaction (on PostgreSQL one statement, one round trip)."""
    if not any(group.lead_ids for group in groups):
        return
    if engine.dialect.name == "postgresql":
        await _UNNESTED.execute(engine, _columns(groups))
        return
    async with engine.begin() as connection:
        await connection.execute(insert(access_log), [entry for group in groups for entry in _rows(group)])


def _common(group: AccessEntries) -> dict[str, object]:
    common = {name: getattr(group, name) for name in _COMMON}
    common["processing_activity"] = group.processing_activity.value
    return common


def _rows(group: AccessEntries) -> list[dict[str, object]]:
    common = _common(group)
    return [{**common, "lead_id": lead_id} for lead_id in group.lead_ids]


def _columns(groups: Sequence[AccessEntries]) -> dict[str, list[object]]:
    """The groups' entries as one array per column (what the unnest statement takes), without a row each."""
    columns: dict[str, list[object]] = {name: [] for name in (*_COMMON, "lead_id")}
    for group in groups:
        count = len(group.lead_ids)
        for name, value in _common(group).items():
            columns[name] += [value] * count
        columns["lead_id"] += group.lead_ids
    return columns


class GroupedWriter:
    """Writes access-log entries in group commits: entries that come while a write is under way go
    together in the next one, so 20 concurrent reads cost a couple of commits instead of 20.

    Each caller still awaits the commit of its own entries (no lead data leaves before its entry is
    stored); a failed write fails every caller whose entries it held. One per process and event loop.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pending: list[tuple[AccessEntries, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, entries: AccessEntries) -> None:
        if not entries.lead_ids:
            return
        done = asyncio.get_running_loop().create_future()
        self._pending.append((entries, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await write_entries(self._engine, [entries for entries, _ in batch])
            except Exception as error:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)


async def query_access_log(
    engine: AsyncEngine, *, lead_id: str | None = None, limit: int = 100, offset: int = 0
) -> AccessLogPage:
    """Entries oldest first, for one lead or all."""
    conditions = [] if lead_id is None else [access_log.c.lead_id == lead_id]
    counting = select(func.count()).select_from(access_log).where(*conditions)
    page = select(access_log).where(*conditions).order_by(access_log.c.id).limit(limit).offset(offset)
    async with engine.connect() as connection:
        count = (await connection.execute(counting)).scalar_one()
        rows = (await connection.execute(page)).all()
    results = [AccessEntryPublic.model_validate(row._asdict()) for row in rows]
    return AccessLogPage(count=int(count), results=results)
