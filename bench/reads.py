"""Benchmarks 4 and 5: reads at scale under 20 concurrent clients, and replaying a long case.

A synthetic log (quick: 2,000 leads / 100,000 events; full: 100,000 leads / 10 million events) is written
by the bulk loader as a valid hash chain, plus one lead with 1,000 events; the read models are then built
by the normal `Projector.rebuild`. Only the API runs against it (nothing else may write).

Reads: `GET /v1/leads` with filters, `GET /v1/leads/{id}` and every `GET /v1/monitoring/…` endpoint
the API offers, each from 20 concurrent clients (closed loop), against an API of one process per core
(`GROEIRUIMTE_API_WORKERS`). Baseline: `GET /healthz` under the same load on the same processes — what
HTTP, the server and the client cost on this machine before any work is done.

Replay: `GET /v1/leads/{id}/state?as_of=…` on the 1,000-event lead, one request at a time, as of the
moment its 875th event occurred: late in the case, but half a snapshot interval (125 events) past the
last snapshot that holds then (the replay folds them; as of the very end it would fold none). Baseline:
reading that lead's rows straight from PostgreSQL (asyncpg, JSON decoded), one query at a time, taken in
turns with the replays.
"""

import json
import os
import time
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.core import Result, Sizes, Stopwatch, milliseconds, percentile
from bench.databases import Database, postgres_database
from bench.histories import SyntheticEvent, one_lead, synthetic_log
from bench.http import Connection, HttpError, Load, UrlFor, closed_loop
from bench.loader import bulk_load, settle
from bench.stack import Stack, Temporal, running_stack
from services.persistence.engine import create_engine
from services.projections.projector import Projector

CLIENTS = 20
READ_GOAL_MS = 50.0
REPLAY_GOAL_MS = 20.0
FILTERS = [
    {"stage": "brokering", "region": "zuid"},
    {"stage": "closed"},
    {"domain": "photonics", "region": "west"},
    {"owner_org": "bom", "stage": "articulating"},
    {"region": "noord"},
]


async def run(
    sizes: Sizes, temporal: Temporal, directory: Path, *, replay_only: bool = False
) -> list[Result]:
    """Load the log, rebuild the read models, start the API and measure; both benchmarks share the setup."""
    async with postgres_database("reads") as database:
        replay = one_lead(sizes.replay_events)
        setup = await _load(database, sizes, replay, replay_only)
        lead_ids = await _lead_ids(database)
        # One API process per core, as a one-box deployment would set GROEIRUIMTE_API_WORKERS; the
        # /healthz baseline runs on the same processes.
        workers = {"API_WORKERS": str(os.cpu_count() or 1)}
        with running_stack(database.url, temporal, directory, api_only=True, settings=workers) as stack:
            moment = replay[len(replay) * 7 // 8 - 1]  # the 875th of 1,000
            replayed = await _replay(stack, database, sizes, replay[0].stream_id, moment)
            results = [] if replay_only else await _reads(stack, sizes, lead_ids, setup)
    results.append(replayed)
    return results


async def _load(
    database: Database, sizes: Sizes, replay: list[SyntheticEvent], replay_only: bool
) -> dict[str, Any]:
    """Bulk-load the synthetic log and the long lead, then rebuild the read models the normal way."""
    with Stopwatch() as loading:
        written = 0
        if not replay_only:
            log = synthetic_log(leads=sizes.read_leads, events=sizes.read_events, active=sizes.active_leads)
            written += await bulk_load(database, log)
        written += await bulk_load(database, replay)
    engine = create_engine(database.url)
    try:
        with Stopwatch() as rebuilding:
            await Projector(engine).rebuild()
    finally:
        await engine.dispose()
    await settle(database.raw)  # the rebuild wrote the read models: not under the first measurements
    return {"events": written, "load_seconds": loading.seconds, "rebuild_seconds": rebuilding.seconds}


async def _lead_ids(database: Database) -> list[str]:
    connection = await asyncpg.connect(database.raw)
    try:
        rows = await connection.fetch("SELECT lead_id FROM lead_summaries ORDER BY lead_id LIMIT 5000")
    finally:
        await connection.close()
    return [row[0] for row in rows]


async def _reads(stack: Stack, sizes: Sizes, lead_ids: list[str], setup: dict[str, Any]) -> list[Result]:
    """The endpoints issue 7 names first, then any other monitoring endpoint the API offers."""
    endpoints: dict[str, UrlFor] = {
        "reads_leads_filtered": lambda i: "/v1/leads?" + _query(FILTERS[i % len(FILTERS)]),
        "reads_lead": lambda i: f"/v1/leads/{lead_ids[(i * 7919) % len(lead_ids)]}",
        "reads_monitoring_impact": _fixed("/v1/monitoring/impact"),
        "reads_monitoring_pipeline": _fixed("/v1/monitoring/pipeline"),
    }
    costs = await _costs(stack, await _monitoring(stack))
    for path in sorted(costs, key=costs.__getitem__):
        endpoints.setdefault(f"reads_{path.removeprefix('/v1/').replace('/', '_')}", _fixed(path))
    floor = await _under_load(stack, _fixed("/healthz"), sizes, sizes.read_warmup)
    results = []
    for name, url_for in endpoints.items():
        # An endpoint that takes seconds per request is measured cold: a warm-up would only cost time.
        warmup = sizes.read_warmup if costs.get(url_for(0), 0.0) < sizes.read_seconds / 4 else 0
        load = await _under_load(stack, url_for, sizes, warmup)
        results.append(_read_result(name, url_for(0), load, floor, setup | {"warmup_requests": warmup}))
    return results


async def _costs(stack: Stack, paths: list[str]) -> dict[str, float]:
    """Seconds one request to each path takes. Measured cheapest first, an endpoint that has to be cut
    off then delays only the measurement of endpoints slower than itself."""
    token = stack.token()
    return {
        path: (await closed_loop(stack.api_url, token, _fixed(path), 1, 1, 60.0)).samples[0] for path in paths
    }


async def _monitoring(stack: Stack) -> list[str]:
    """Every GET endpoint under /v1/monitoring/ without path parameters, from the OpenAPI document."""
    async with stack.client() as client:
        paths: dict[str, Any] = (await client.get("/openapi.json")).json()["paths"]
    return sorted(
        path
        for path, methods in paths.items()
        if path.startswith("/v1/monitoring/") and "{" not in path and "get" in methods
    )


async def _under_load(stack: Stack, url_for: UrlFor, sizes: Sizes, warmup: int) -> Load:
    """`read_requests` requests from CLIENTS concurrent clients (after `warmup` requests), within the time
    budget."""
    token = stack.token()
    if warmup:
        await closed_loop(stack.api_url, token, url_for, warmup, CLIENTS, sizes.read_seconds / 4)
    return await closed_loop(stack.api_url, token, url_for, sizes.read_requests, CLIENTS, sizes.read_seconds)


def _read_result(name: str, example: str, load: Load, floor: Load, setup: dict[str, Any]) -> Result:
    samples = load.samples
    p50, p99 = milliseconds(percentile(samples, 0.5)), milliseconds(percentile(samples, 0.99))
    details = {
        "p50_ms": p50,
        "healthz_p50_ms": milliseconds(percentile(floor.samples, 0.5)),
        "requests": len(samples),
        "cut_off": load.cut_off,
        "clients": CLIENTS,
        "example": example,
    }
    return Result(
        name,
        p99,
        "ms p99",
        milliseconds(percentile(floor.samples, 0.99)),
        goal=f"p99 < {READ_GOAL_MS:.0f} ms",
        met=p99 < READ_GOAL_MS,
        details=details | setup,
    )


async def _replay(
    stack: Stack, database: Database, sizes: Sizes, stream_id: str, moment: SyntheticEvent
) -> Result:
    """The replay and its baseline taken in turns, one of each at a time: a stretch of the hour on which
    the machine runs slower then slows both alike, instead of whichever was measured in it."""
    lead_id = stream_id.removeprefix("lead-")
    as_of = moment.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    path = f"/v1/leads/{lead_id}/state?as_of={as_of}"
    token = stack.token()
    await closed_loop(stack.api_url, token, _fixed(path), sizes.warmup, 1, sizes.read_seconds / 4)
    samples, raw = await _replays_and_raw_reads(stack, token, path, database, stream_id, sizes)
    p50 = milliseconds(percentile(samples, 0.5))
    return Result(
        "case_replay",
        p50,
        "ms p50",
        milliseconds(percentile(raw, 0.5)),
        goal=f"p50 < {REPLAY_GOAL_MS:.0f} ms",
        met=p50 < REPLAY_GOAL_MS,
        details={
            "events": sizes.replay_events,
            "as_of_event": moment.stream_version,
            "p99_ms": milliseconds(percentile(samples, 0.99)),
            "requests": len(samples),
            "raw_p99_ms": milliseconds(percentile(raw, 0.99)),
        },
    )


async def _replays_and_raw_reads(
    stack: Stack, token: str, path: str, database: Database, stream_id: str, sizes: Sizes
) -> tuple[list[float], list[float]]:
    """Seconds per replay over HTTP and per read of the stream's rows straight from PostgreSQL (asyncpg,
    JSON decoded), alternately, up to `replay_requests` of each and none started after twice
    `read_seconds`."""
    http = await Connection.open(stack.api_url, token)
    connection = await asyncpg.connect(database.raw)
    samples: list[float] = []
    raw: list[float] = []
    deadline = time.perf_counter() + sizes.read_seconds * 2
    try:
        while len(samples) < sizes.replay_requests and (not samples or time.perf_counter() < deadline):
            started = time.perf_counter()
            status, body = await http.get(path)
            samples.append(time.perf_counter() - started)
            if status != 200:
                raise HttpError(f"GET {path} answered {status}: {body[:300]!r}")
            started = time.perf_counter()
            rows = await connection.fetch(
                "SELECT * FROM events WHERE stream_id = $1 ORDER BY stream_version", stream_id
            )
            for row in rows:
                json.loads(row["data"])
                json.loads(row["metadata"])
            raw.append(time.perf_counter() - started)
    finally:
        await connection.close()
        await http.close()
    return samples, raw


def _fixed(path: str) -> UrlFor:
    return lambda _: path


def _query(filters: dict[str, str]) -> str:
    return "&".join(f"{key}={value}" for key, value in {**filters, "limit": "20"}.items())
