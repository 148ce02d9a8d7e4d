"""Benchmark 6: many open cases — open leads, each with a pending partner-request timer, on the dev server.

Leads are signalled over HTTP and taken to brokering with one partner request due in three months, so
every workflow holds a pending reminder timer (and a stale-lead timer). Measured: the worker's memory
with all of them open, and how late timers fire when they all fall due at the same moment.

Partner reminders fall due at 08:00 UTC on working days after the due date, a moment a benchmark run
cannot wait for; the workflow's stale-lead nudge runs on the same timer loop (sleep until the next due
action, record its event through the append activity, deliver its mail) and its moment can be set: the
stack runs with `GROEIRUIMTE_STALE_AFTER_DAYS=1` and every command that opens a lead is back-dated to
one day before a common moment T, chosen far enough ahead for all leads to be open by then, so all
nudges fall due at T. Lateness is a nudge's `recorded_at` minus T. The baseline is one lone lead's
nudge, measured the same way first. Goal (issue 7): every one fired, none twice, worker under 1 GiB.
"""

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

from bench.core import Result, Sizes, milliseconds, percentile
from bench.databases import Database
from bench.stack import System
from services.auth import Role

MEMORY_GOAL_MB = 1024
CONCURRENCY = 8
SOLO_LEAD_SECONDS = 3.0
SYSTEM_SETTINGS = {"STALE_AFTER_DAYS": "1"}
LEAD = {
    "company": {"name": "Open Case B.V."},
    "owner_org": "bom",
    "home_region": "zuid",
    "domains": ["quantum"],
}


async def run(sizes: Sizes, system: System) -> list[Result]:
    """Needs the system started with SYSTEM_SETTINGS (see the module docstring)."""
    worker = system.stack.child_pid("worker")
    idle_mb = _memory_mb(worker, "VmRSS")
    async with system.stack.client(Role.TASKFORCE, "bom", timeout=120) as api:
        started = time.perf_counter()
        solo = await _all_due_at(api, system.database, 1, SOLO_LEAD_SECONDS)
        # Opening N leads CONCURRENCY at a time, counted as if only half of them ran in parallel.
        ahead = (time.perf_counter() - started - SOLO_LEAD_SECONDS) * sizes.open_cases / (CONCURRENCY / 2) + 5
        many = await _all_due_at(api, system.database, sizes.open_cases, ahead, memory_of=worker)
    peak_mb = _memory_mb(worker, "VmHWM")
    return _results(sizes, solo, many, idle_mb, peak_mb)


async def _all_due_at(
    api: httpx.AsyncClient, database: Database, count: int, seconds_ahead: float, memory_of: int | None = None
) -> dict[str, Any]:
    """Open `count` leads whose nudges all fall due `seconds_ahead` from now; wait for them to fire."""
    due = datetime.now(UTC) + timedelta(seconds=seconds_ahead)
    back_dated = (due - timedelta(days=1)).isoformat()
    leads = await _in_parallel([lambda: _open_lead(api, back_dated)] * count)
    opened_late = datetime.now(UTC) > due
    open_mb = _memory_mb(memory_of, "VmRSS") if memory_of else None
    deadline = time.perf_counter() + max((due - datetime.now(UTC)).total_seconds(), 0) + 60 + count / 10
    while time.perf_counter() < deadline:
        if len(await _nudges(database, leads)) >= count:
            break
        await asyncio.sleep(0.5)  # polling the log: the nudges are written by another process
    await asyncio.sleep(1)  # a nudge sent twice would show by now
    fired = await _nudges(database, leads)
    return {
        "leads": count,
        "fired": len(fired),
        "twice": sum(1 for recorded in fired.values() if len(recorded) > 1),
        "late": [(recorded[0] - due).total_seconds() for recorded in fired.values()] or [float("inf")],
        "opened_after_due": opened_late,
        "rss_with_all_open_mb": open_mb,
    }


async def _open_lead(api: httpx.AsyncClient, occurred_at: str) -> str:
    """Signal a lead, articulate a demand, start the case approach and ask a partner (due in 90 days)."""
    lead = {**LEAD, "occurred_at": occurred_at}
    lead_id: str = (await _post(api, "/v1/leads", lead))["lead_id"]
    demand = {"kind": "space", "floor_area_m2": 4000, "occurred_at": occurred_at}
    demand_id = (await _post(api, f"/v1/leads/{lead_id}/demands", demand))["demand_id"]
    await _post(api, f"/v1/leads/{lead_id}/articulation/complete", {"occurred_at": occurred_at})
    request = {
        "partner_id": "provincie-noord-brabant",
        "demand_ids": [demand_id],
        "question": "Is there a site of 4,000 m2 with cleanroom potential?",
        "due_date": (date.today() + timedelta(days=90)).isoformat(),
        "occurred_at": occurred_at,
    }
    await _post(api, f"/v1/leads/{lead_id}/partner-requests", request)
    return lead_id


async def _nudges(database: Database, leads: list[str]) -> dict[str, list[datetime]]:
    connection = await asyncpg.connect(database.raw)
    try:
        rows = await connection.fetch(
            "SELECT stream_id, recorded_at FROM events WHERE type = 'OwnerNudged' AND stream_id = ANY($1) "
            "ORDER BY position",
            [f"lead-{lead_id}" for lead_id in leads],
        )
    finally:
        await connection.close()
    fired: dict[str, list[datetime]] = {}
    for row in rows:
        fired.setdefault(row["stream_id"], []).append(row["recorded_at"])
    return fired


async def _in_parallel(calls: list[Any]) -> list[Any]:
    """Await the calls, CONCURRENCY at a time, keeping their order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated(call: Any) -> Any:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(gated(call) for call in calls)))


async def _post(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _memory_mb(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"{field} not in /proc/{pid}/status")


def _results(
    sizes: Sizes, solo: dict[str, Any], many: dict[str, Any], idle_mb: float, peak_mb: float
) -> list[Result]:
    every_once = many["fired"] == many["leads"] and many["twice"] == 0 and solo["twice"] == 0
    p50, p99 = percentile(many["late"], 0.5), percentile(many["late"], 0.99)
    return [
        Result(
            "open_cases_worker_memory",
            peak_mb,
            "MiB peak RSS",
            idle_mb,
            goal=f"< {MEMORY_GOAL_MB} MiB",
            met=peak_mb < MEMORY_GOAL_MB,
            details={"open_leads": sizes.open_cases, "rss_with_all_open_mb": many["rss_with_all_open_mb"]},
        ),
        Result(
            "open_cases_timer_lateness",
            milliseconds(p99),
            "ms p99",
            milliseconds(solo["late"][0]),
            goal="every one fired, none twice",
            met=every_once,
            details={
                "open_leads": many["leads"],
                "fired": many["fired"],
                "fired_twice": many["twice"],
                "p50_ms": milliseconds(p50),
                "max_ms": milliseconds(max(many["late"])),
                "still_opening_when_due": many["opened_after_due"],
                "timer": "stale-lead nudge (same timer loop as partner reminders)",
            },
        ),
    ]
