"""Benchmark 3: command latency end to end, against a bare Temporal update on the same dev server.

A command is `POST /v1/leads/{id}/notes` over HTTP: API (auth, lead loaded from the log, authorised) →
Temporal update of the lead's workflow (validator runs the rules) → `append_events` activity → event
committed → workflow answers → HTTP response. The baseline is an update of a workflow that only runs a
no-op activity, sent from this process to a worker in this process, on the same dev server. Both run
one at a time, alternating in rounds, after a warm-up.
"""

import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from bench.bare import BareWorkflow, nothing
from bench.core import Result, Sizes, milliseconds, percentile
from bench.stack import Stack, System, Temporal
from services.auth import Role

GOAL = 1.5
LEADS = 10
ROUND = 10
LEAD = {
    "company": {"name": "Benchmark B.V."},
    "owner_org": "bom",
    "home_region": "zuid",
    "domains": ["ai_data"],
}


async def run(sizes: Sizes, system: System) -> list[Result]:
    http, bare = await _measure(system.stack, system.temporal, sizes)
    return _results(http, bare, sizes)


async def _measure(stack: Stack, temporal: Temporal, sizes: Sizes) -> tuple[list[float], list[float]]:
    client = await Client.connect(temporal.address, data_converter=pydantic_data_converter)
    queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    async with (
        Worker(client, task_queue=queue, workflows=[BareWorkflow], activities=[nothing]),
        stack.client(Role.TASKFORCE, "bom") as api,
    ):
        lead_ids = [await _signal(api) for _ in range(LEADS)]
        handles = [
            await client.start_workflow(BareWorkflow.run, id=f"bench-bare-{uuid.uuid4()}", task_queue=queue)
            for _ in range(LEADS)
        ]
        note = _note_sender(api, lead_ids)
        update = _update_sender(handles)
        await _timed(note, sizes.warmup)
        await _timed(update, sizes.warmup)
        http: list[float] = []
        bare: list[float] = []
        while len(http) < sizes.commands:
            http += await _timed(note, min(ROUND, sizes.commands - len(http)))
            bare += await _timed(update, min(ROUND, sizes.commands - len(bare)))
        for handle in handles:
            await handle.signal(BareWorkflow.finish)
    return http, bare


async def _signal(api: httpx.AsyncClient) -> str:
    response = await api.post("/v1/leads", json=LEAD)
    response.raise_for_status()
    lead_id: str = response.json()["lead_id"]
    return lead_id


def _note_sender(api: httpx.AsyncClient, lead_ids: list[str]) -> Callable[[int], Awaitable[None]]:
    async def send(index: int) -> None:
        lead_id = lead_ids[index % len(lead_ids)]
        response = await api.post(f"/v1/leads/{lead_id}/notes", json={"text": f"benchmark note {index}"})
        response.raise_for_status()

    return send


def _update_sender(handles: list[WorkflowHandle[BareWorkflow, None]]) -> Callable[[int], Awaitable[None]]:
    async def send(index: int) -> None:
        await handles[index % len(handles)].execute_update(BareWorkflow.execute, f"update {index}")

    return send


async def _timed(send: Callable[[int], Awaitable[None]], count: int) -> list[float]:
    """Seconds each of `count` sequential calls took."""
    samples = []
    for index in range(count):
        started = time.perf_counter()
        await send(index)
        samples.append(time.perf_counter() - started)
    return samples


def _results(http: list[float], bare: list[float], sizes: Sizes) -> list[Result]:
    http_p50, bare_p50 = milliseconds(percentile(http, 0.5)), milliseconds(percentile(bare, 0.5))
    http_p99, bare_p99 = milliseconds(percentile(http, 0.99)), milliseconds(percentile(bare, 0.99))
    return [
        Result(
            "command_latency_p50",
            http_p50,
            "ms",
            bare_p50,
            goal=f"ratio <= {GOAL}",
            met=http_p50 <= GOAL * bare_p50,
            details={"commands": len(http), "http_p99_ms": http_p99, "bare_p99_ms": bare_p99},
        ),
        Result(
            "command_latency_p99",
            http_p99,
            "ms",
            bare_p99,
            goal="none",
            met=None,
            details={"commands": len(http)},
        ),
    ]
