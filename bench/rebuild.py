"""Benchmark 2: projection rebuild, events per second, against a raw sequential read of the same rows.

The log (quick: 50,000 events; full: 1,000,000) is written by the bulk loader: leads of about 100 events
each, 2,000 of them open at once, so their events interleave as in real use. The rebuild is what
`groeiruimte projections rebuild` runs (`Projector.rebuild` with the configured batch size). The
baseline reads the same columns of every row in position order through the same driver with a
server-side cursor and decodes their JSON — the least any projection has to do; the rate without the
JSON decoding is reported too.
"""

import json
import time
from typing import Any

import aiosqlite
import asyncpg  # type: ignore[import-untyped]

from bench.core import Result, Sizes, Stopwatch
from bench.databases import Database, database_for
from bench.histories import synthetic_log
from bench.loader import bulk_load
from services.persistence.engine import create_engine
from services.projections.projector import Projector
from services.settings import Settings

RATIO_GOAL = 0.3
RATE_GOAL = 50_000
EVENTS_PER_LEAD = 100
QUERY = "SELECT position, stream_id, type, schema_version, data, occurred_at FROM events ORDER BY position"


async def run(kind: str, sizes: Sizes) -> Result:
    async with database_for(kind, "rebuild") as database:
        leads = max(sizes.rebuild_events // EVENTS_PER_LEAD, 1)
        log = synthetic_log(leads=leads, events=sizes.rebuild_events, active=min(leads, sizes.active_leads))
        with Stopwatch() as loading:
            events = await bulk_load(database, log)
        raw_bytes = await _raw_read(database, decode=False)
        raw = await _raw_read(database, decode=True)
        engine = create_engine(database.url)
        try:
            projector = Projector(engine, batch_size=Settings(_env_file=None).projector_batch_size)
            with Stopwatch() as rebuilding:
                applied = await projector.rebuild()
        finally:
            await engine.dispose()
        raw = (raw + await _raw_read(database, decode=True)) / 2  # before and after: shared noise
    assert applied == events, f"rebuild applied {applied} of {events} events"
    rate, raw_rate = events / rebuilding.seconds, events / raw
    postgres = kind == "postgresql"
    met = rate / raw_rate >= RATIO_GOAL and (rate >= RATE_GOAL or not postgres)
    return Result(
        f"rebuild_{kind}",
        rate,
        "events/s",
        raw_rate,
        goal=f"ratio >= {RATIO_GOAL}" + (f" and >= {RATE_GOAL:,} events/s" if postgres else ""),
        met=met,
        details={
            "events": events,
            "leads": leads,
            "rebuild_seconds": rebuilding.seconds,
            "raw_without_json_events_per_s": events / raw_bytes,
            "load_seconds": loading.seconds,
        },
    )


async def _raw_read(database: Database, *, decode: bool) -> float:
    """Seconds to read every row's projection columns in position order."""
    started = time.perf_counter()
    if database.kind == "postgresql":
        connection = await asyncpg.connect(database.raw)
        try:
            async with connection.transaction():
                async for row in connection.cursor(QUERY, prefetch=10_000):
                    _consume(row, decode)
        finally:
            await connection.close()
    else:
        async with aiosqlite.connect(database.raw) as lite, lite.execute(QUERY) as cursor:
            while rows := await cursor.fetchmany(10_000):
                for row in rows:
                    _consume(row, decode)
    return time.perf_counter() - started


def _consume(row: Any, decode: bool) -> None:
    if decode:
        json.loads(row[4])
