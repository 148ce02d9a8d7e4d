"""Logged reads: a lead's history read with its access-log entry (written before the data leaves)
against the same route with logging switched off, in the same process, interleaved. Goal (issue 4):
logging does not double a read's latency."""

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Request

from bench.core import Result, Sizes
from bench.databases import database_for
from events import commands as cmd
from events.decide import decide
from events.demands import SpaceSpec
from events.details import Company, LeadDetails
from events.evolve import evolve
from events.reference import Region
from events.store import Actor, EventMetadata, NewEvent
from services.api.app import create_app
from services.api.deps import current_user, request_container
from services.audit.access_log import ProcessingActivity
from services.audit.read_logging import LoggedRead, logged_read
from services.auth import Role, mint_token
from services.container import build_container
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from workflows.payloads import workflow_id_for

ROUNDS = 4
ACTOR = Actor(sub="bench@bom.nl", org="bom", role="taskforce")


class _Unlogged:
    """The baseline: the same route, no access-log entry."""

    def record(self, *lead_ids: uuid.UUID, activity: ProcessingActivity | None = None) -> None:
        return None


async def _unlogged_read(request: Request) -> LoggedRead:
    """`logged_read` with a recorder that writes nothing (so nothing is awaited before the answer)."""
    reads: Any = _Unlogged()  # what routes call of a ReadLog
    return LoggedRead(await current_user(request), request_container(request), reads)


async def run(kind: str, sizes: Sizes) -> Result:
    async with database_for(kind, "logged_reads") as database:
        settings = Settings(_env_file=None, database_url=database.url, rate_limit_enabled=False)
        container = await build_container(settings, with_temporal=False)
        try:
            app = create_app(settings, container)
            lead_id = await _lead_with_history(container.store, notes=20)
            token = mint_token(settings, role=Role.TASKFORCE, org="bom", sub="bench@bom.nl")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://api", headers={"Authorization": f"Bearer {token}"}
            ) as client:
                logged, unlogged = await _interleaved(app, client, f"/v1/leads/{lead_id}/events", sizes)
        finally:
            await container.close()
    with_log, without_log = statistics.median(logged), statistics.median(unlogged)
    return Result(
        name=f"logged_read_{kind}",
        value=with_log * 1000,
        unit="ms p50",
        baseline=without_log * 1000,
        goal="< 2x unlogged",
        met=with_log < 2 * without_log,
        details={"requests_per_round": _per_round(sizes), "rounds": ROUNDS},
    )


async def _interleaved(
    app: FastAPI, client: httpx.AsyncClient, path: str, sizes: Sizes
) -> tuple[list[float], list[float]]:
    """Median latencies of alternating rounds, so drift on a shared machine affects both alike."""
    overrides = app.dependency_overrides
    await _median(client, path, sizes.warmup)
    logged: list[float] = []
    unlogged: list[float] = []
    for _ in range(ROUNDS):
        overrides[logged_read] = _unlogged_read
        unlogged.append(await _median(client, path, _per_round(sizes)))
        overrides.clear()
        logged.append(await _median(client, path, _per_round(sizes)))
    return logged, unlogged


async def _median(client: httpx.AsyncClient, path: str, requests: int) -> float:
    seconds = []
    for _ in range(max(requests, 1)):
        started = time.perf_counter()
        response = await client.get(path)
        seconds.append(time.perf_counter() - started)
        response.raise_for_status()
    return statistics.median(seconds)


def _per_round(sizes: Sizes) -> int:
    return max(sizes.replay_requests // 2, 3)


async def _lead_with_history(store: SqlEventStore, notes: int) -> uuid.UUID:
    """A lead with a demand, the case started and `notes` notes, through the domain rules."""
    lead_id = uuid.uuid4()
    details = LeadDetails(company=Company(name="Bench BV"), owner_org="bom", home_region=Region.ZUID)
    commands: list[Any] = [
        cmd.SignalLead(lead_id=lead_id, details=details),
        cmd.ArticulateDemand(demand_id=uuid.uuid4(), spec=SpaceSpec(floor_area_m2=4000)),
        cmd.CompleteArticulation(),
        *[cmd.AddNote(note_id=uuid.uuid4(), text="call " * 40) for _ in range(notes)],
    ]
    start = datetime(2026, 5, 1, 9, tzinfo=UTC)
    state = None
    for index, command in enumerate(commands):
        at = start + timedelta(hours=index)
        decided = decide(state, command)
        new = [
            NewEvent.from_domain(
                e, event_id=uuid.uuid4(), occurred_at=at, metadata=EventMetadata(actor=ACTOR)
            )
            for e in decided
        ]
        await store.append(workflow_id_for(lead_id), state.version if state else 0, new)
        for event in decided:
            state = evolve(state, event, at)
    return lead_id
