"""Faults injected into the real processes; the event log shows nothing was lost or written twice.

Each test kills (`kill -9`) or stops one process of the running system, lets it come back, and reads the
`events` table: every command answered is in the log exactly once, positions stay gap-free, every stream's
versions run 1, 2, … without holes.
"""

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from typing import Any

import asyncpg
import httpx
import pytest

from tests.faults.conftest import COMMAND_TIMEOUT_SECONDS, FaultStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

LEAD = {"company": {"name": "Fotonenfabriek B.V."}, "owner_org": "bom", "home_region": "zuid"}
DEMAND = {"kind": "talent", "fte_hbo": 40}
# The retry of a command whose activity died with its worker waits for the activity's start-to-close
# timeout (30 s, workflows/lead.py APPEND_TIMEOUT) before another worker runs it.
RECOVERY_SECONDS = 60


async def signal_lead(api: httpx.AsyncClient, **extra: Any) -> str:
    response = await api.post("/v1/leads", json=LEAD | extra)
    assert response.status_code == 201, response.text
    lead_id: str = response.json()["lead_id"]
    return lead_id


async def articulate(api: httpx.AsyncClient, lead_id: str) -> None:
    response = await api.post(f"/v1/leads/{lead_id}/demands", json=DEMAND)
    assert response.status_code == 201, response.text


async def add_note(api: httpx.AsyncClient, lead_id: str, key: str) -> httpx.Response:
    return await api.post(
        f"/v1/leads/{lead_id}/notes", json={"text": f"note {key}"}, headers={"Idempotency-Key": key}
    )


async def answered(api: httpx.AsyncClient, lead_id: str, key: str, within: float) -> httpx.Response:
    """Repeat the command with its Idempotency-Key until it is answered (a 503 means: try again)."""
    deadline = time.monotonic() + within
    while True:
        response = await add_note(api, lead_id, key)
        if response.status_code != 503 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.5)


def event_ids(response: httpx.Response) -> list[str]:
    return [event["event_id"] for event in response.json()["events"]]


async def assert_log_is_whole(stack: FaultStack, keys: list[str]) -> None:
    """Gap-free positions, unique event ids, gap-free stream versions, each command's one event once."""
    rows = await stack.events()
    assert [row["position"] for row in rows] == list(range(1, len(rows) + 1))
    assert len({row["event_id"] for row in rows}) == len(rows)
    versions: dict[str, list[int]] = {}
    for row in rows:
        versions.setdefault(row["stream_id"], []).append(row["stream_version"])
    for stream, numbers in versions.items():
        assert numbers == list(range(1, len(numbers) + 1)), stream
    per_command = Counter(row["command_id"] for row in rows)
    assert {key: per_command[key] for key in keys} == dict.fromkeys(keys, 1)


async def test_worker_killed_while_appending_loses_no_command_and_writes_none_twice(
    stack: FaultStack, restore: None
) -> None:
    async with stack.client() as api:
        leads = [await signal_lead(api) for _ in range(3)]
        keys = {lead_id: f"worker-kill-{uuid.uuid4()}" for lead_id in leads}
        # Appends wait on the log head while we hold it: the activities are running when the worker dies
        # (one waits in the database; the worker's appends take turns on its connection, the others wait
        # for their turn in the worker).
        async with stack.row_locked("log_head", "id = 1"):
            first = [asyncio.create_task(add_note(api, lead_id, key)) for lead_id, key in keys.items()]
            await stack.wait_for_lock_waiters(1)
            await asyncio.sleep(1)  # the other two activities reach their turn's queue
            stack.kill("worker")
        first_answers = dict(zip(keys.values(), await asyncio.gather(*first), strict=True))
        assert {response.status_code for response in first_answers.values()} <= {201, 503}

        stack.start("worker")
        await stack.wait_for_worker()
        await stack.wait_for_commands_in_log(list(keys.values()), RECOVERY_SECONDS)
        final = {key: await answered(api, lead_id, key, RECOVERY_SECONDS) for lead_id, key in keys.items()}
        assert {key: response.status_code for key, response in final.items()} == dict.fromkeys(final, 201)
        for key, response in first_answers.items():
            if response.status_code == 201:
                assert event_ids(response) == event_ids(final[key])
        repeated = {key: await add_note(api, lead_id, key) for lead_id, key in keys.items()}
        assert {key: event_ids(r) for key, r in repeated.items()} == {
            k: event_ids(r) for k, r in final.items()
        }
    await assert_log_is_whole(stack, list(keys.values()))


async def test_temporal_restart_leaves_an_open_lead_accepting_commands(
    stack: FaultStack, restore: None
) -> None:
    async with stack.client() as api:
        lead_id = await signal_lead(api)
        await articulate(api, lead_id)
        stack.stop("temporal")

        down = await eventually(lambda: _not_ready(stack), 10, "readiness reports Temporal away")
        assert down["checks"] == {"database": True, "temporal": False}
        during = f"temporal-down-{uuid.uuid4()}"
        started = time.monotonic()
        refused = await add_note(api, lead_id, during)
        assert refused.status_code == 503, refused.text
        assert time.monotonic() - started < COMMAND_TIMEOUT_SECONDS + 5

        stack.start("temporal")
        await stack.wait_for_api()
        await stack.wait_for_worker()
        completed = await api.post(f"/v1/leads/{lead_id}/articulation/complete")
        assert completed.status_code == 200, completed.text
        assert completed.json()["stage"] == "brokering"
        retried = await answered(api, lead_id, during, RECOVERY_SECONDS)
        assert retried.status_code == 201, retried.text
        assert await signal_lead(api)  # and new leads start as before
    await assert_log_is_whole(stack, [during])


async def test_projector_killed_mid_batch_resumes_to_read_models_equal_to_a_full_rebuild(
    stack: FaultStack, restore: None
) -> None:
    async with stack.client() as api:
        leads = [await signal_lead(api, home_region=region) for region in ("zuid", "oost", "west", "noord")]
        await stack.wait_for_projector()
        # The projector's next batch upserts this lead's row and waits for our lock, mid-transaction.
        async with stack.row_locked("lead_summaries", "lead_id = $1", leads[0]):
            for lead_id in leads:
                await articulate(api, lead_id)
            await stack.wait_for_lock_waiters(1)
            stack.kill("projector")
        for lead_id in leads[1:]:
            await articulate(api, lead_id)  # more events while no projector runs
        stack.start("projector")
        await stack.wait_for_projector()

        projected, figures = await stack.read_models(), (await api.get("/v1/monitoring/pipeline")).json()
        await stack.rebuild_projections()
        assert await stack.read_models() == projected
        assert (await api.get("/v1/monitoring/pipeline")).json() == figures
        listed = (await api.get("/v1/leads", params={"limit": 100})).json()
        assert {lead["lead_id"] for lead in listed["results"]} >= set(leads)


async def test_fifty_conflicting_commands_on_one_lead_accept_exactly_one(stack: FaultStack) -> None:
    async with stack.client() as api:
        lead_id = await signal_lead(api)
        await articulate(api, lead_id)
        path = f"/v1/leads/{lead_id}/articulation/complete"
        responses = await asyncio.gather(*(api.post(path) for _ in range(50)))
    unexpected = {r.text for r in responses if r.status_code not in (200, 409)}
    assert Counter(response.status_code for response in responses) == {200: 1, 409: 49}, unexpected
    refusals = [response.json() for response in responses if response.status_code == 409]
    assert {(problem["type"], problem["stage"]) for problem in refusals} == {
        ("urn:groeiruimte:problem:stage-conflict", "brokering")
    }
    completed = [row for row in await stack.events() if row["type"] == "ArticulationCompleted"]
    assert [row["stream_id"] for row in completed].count(f"lead-{lead_id}") == 1


async def test_fifty_identical_requests_with_one_idempotency_key_write_one_event(stack: FaultStack) -> None:
    key = f"same-{uuid.uuid4()}"
    async with stack.client() as api:
        lead_id = await signal_lead(api)
        responses = await asyncio.gather(*(add_note(api, lead_id, key) for _ in range(50)))
    assert Counter(response.status_code for response in responses) == {201: 50}
    assert len({tuple(event_ids(response)) for response in responses}) == 1
    await assert_log_is_whole(stack, [key])


# --- PostgreSQL restarted while commands are appended ---------------------------------------------------


class Outage:
    """What the system did while its database was restarted under load."""

    def __init__(self) -> None:
        self.keys: dict[str, str] = {}  # Idempotency-Key -> lead
        # The first answer to each command, or how the connection failed when there was none.
        self.answers: dict[str, httpx.Response | httpx.TransportError] = {}
        self.sent_while_down: list[str] = []
        self.reads_while_down: list[httpx.Response] = []
        self.readiness_while_down: dict[str, Any] = {}

    async def add_note(self, api: httpx.AsyncClient, lead_id: str) -> str:
        key = f"pg-restart-{uuid.uuid4()}"
        self.keys[key] = lead_id
        try:
            self.answers[key] = await add_note(api, lead_id, key)
        except httpx.TransportError as error:
            self.answers[key] = error
        return key


@pytest.fixture(scope="module")
async def postgres_outage(stack: FaultStack) -> Outage:
    """A stream of notes on three leads; PostgreSQL stops while appends are under way (one waiting in the
    database, the others for their turn on the worker's append connection)."""
    postgres = stack.postgres
    if postgres is None:
        pytest.skip("no private PostgreSQL cluster (no server binaries): restarting a shared one is unsafe")
    outage = Outage()
    async with stack.client() as api:
        leads = [await signal_lead(api) for _ in range(3)]

        async def stream(lead_id: str) -> None:
            for _ in range(4):
                await outage.add_note(api, lead_id)

        writers = [asyncio.create_task(stream(lead_id)) for lead_id in leads]
        await eventually(lambda: _answered(outage, 3), 20, "the first notes are appended")
        # The next append waits on the log head we hold, the others on it; the restart cuts them.
        holder = await asyncpg.connect(stack.dsn)
        await holder.execute("BEGIN; SELECT 1 FROM log_head WHERE id = 1 FOR UPDATE")
        await stack.wait_for_lock_waiters(1)
        await asyncio.sleep(1)  # the other streams' appends queue behind it
        postgres.stop("fast")
        with contextlib.suppress(Exception):  # its server is gone
            await holder.close(timeout=1)
        outage.readiness_while_down = await eventually(
            lambda: _not_ready(stack), 10, "readiness reports the database away"
        )
        outage.sent_while_down = [await outage.add_note(api, lead_id) for lead_id in leads]
        outage.reads_while_down = [await api.get(f"/v1/leads/{lead_id}") for lead_id in leads]
        postgres.start()
        await asyncio.gather(*writers)
    return outage


async def _answered(outage: Outage, count: int) -> bool:
    return len(outage.answers) >= count


async def _not_ready(stack: FaultStack) -> dict[str, Any] | None:
    response = await stack.readiness()
    if response is not None and response.status_code == 503:
        body: dict[str, Any] = response.json()
        return body
    return None


async def test_postgres_restart_during_appends_keeps_every_accepted_command_in_the_log_exactly_once(
    stack: FaultStack, postgres_outage: Outage
) -> None:
    assert postgres_outage.readiness_while_down["checks"] == {"database": False, "temporal": True}
    async with stack.client() as api:
        final = {
            key: await answered(api, lead_id, key, RECOVERY_SECONDS)
            for key, lead_id in postgres_outage.keys.items()
        }
    assert {key: response.status_code for key, response in final.items()} == dict.fromkeys(final, 201)
    for key, first in postgres_outage.answers.items():
        if isinstance(first, httpx.Response) and first.status_code == 201:
            assert event_ids(first) == event_ids(final[key])
    await assert_log_is_whole(stack, list(postgres_outage.keys))
    await stack.wait_for_api()


async def test_commands_while_the_database_is_away_answer_503_problems(postgres_outage: Outage) -> None:
    answers = [postgres_outage.answers[key] for key in postgres_outage.sent_while_down]
    outcomes = {
        (answer.status_code, answer.headers["content-type"])
        if isinstance(answer, httpx.Response)
        else type(answer).__name__
        for answer in answers
    }
    assert outcomes == {(503, "application/problem+json")}


async def test_reads_while_the_database_is_away_answer_503_problems(postgres_outage: Outage) -> None:
    outcomes = {(read.status_code, read.headers["content-type"]) for read in postgres_outage.reads_while_down}
    assert outcomes == {(503, "application/problem+json")}


async def test_projector_carries_on_after_a_database_restart(
    stack: FaultStack, postgres_outage: Outage
) -> None:
    assert postgres_outage.keys
    await stack.wait_for_projector()
