"""The benchmark suite still works: every benchmark runs in smoke mode. No timing is asserted here."""

import asyncio
import contextlib
import gc
import json
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import Database
from bench.histories import one_lead, synthetic_log
from bench.http import Connection, closed_loop
from bench.loader import bulk_load
from events.model import ContactPersonAdded, NoteAdded, PersonalDataErased
from events.store import Actor, EventMetadata, NewEvent
from services.persistence.event_store import SqlEventStore
from services.persons import PersonVault, open_sealed
from services.projections.projector import Projector
from tests.conftest import create_postgres_database, drop_postgres_database

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = {
    "append_single_postgresql",
    "append_batch10_postgresql",
    "append_single_sqlite",
    "append_batch10_sqlite",
    "rebuild_postgresql",
    "rebuild_sqlite",
    "command_latency_p50",
    "command_latency_p99",
    "reads_leads_filtered",
    "reads_lead",
    "reads_monitoring_impact",
    "reads_monitoring_pipeline",
    "case_replay",
    "logged_read_postgresql",
    "logged_read_sqlite",
    "open_cases_worker_memory",
    "open_cases_timer_lateness",
}
FIELDS = {"value", "unit", "baseline", "ratio", "goal", "met"}


@pytest.fixture(scope="module")
async def postgres_reachable() -> None:
    """Skips (or, with GROEIRUIMTE_REQUIRE_POSTGRES=1, fails) without PostgreSQL, like the other tests."""
    name, _ = await create_postgres_database()
    await drop_postgres_database(name)


@pytest.mark.e2e
@pytest.mark.postgres
def test_every_benchmark_runs_in_smoke_mode_and_reports_its_figure_against_a_baseline(
    postgres_reachable: None, tmp_path: Path
) -> None:
    output = tmp_path / "results.json"

    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(output.read_text())
    assert set(results) >= BENCHMARKS
    for name, result in results.items():
        assert set(result) >= FIELDS, name
        assert isinstance(result["goal"], str) and isinstance(result["unit"], str), name
        assert result["met"] in (True, False, None), name
    for name in BENCHMARKS:
        result = results[name]
        assert result["value"] > 0 and result["baseline"] > 0, name
        assert math.isclose(result["ratio"], result["value"] / result["baseline"], rel_tol=0.01), name
    assert results["open_cases_timer_lateness"]["details"]["fired_twice"] == 0


async def test_bulk_loader_writes_a_chain_the_store_verifies_continues_and_projects(
    database_url: str, engine: AsyncEngine
) -> None:
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    raw = database_url.replace("postgresql+asyncpg://", "postgresql://").removeprefix("sqlite+aiosqlite:///")
    database = Database(kind, database_url, raw)
    log = [*synthetic_log(leads=30, events=600, active=10), *one_lead(50)]

    written = await bulk_load(database, log, batch_size=100)

    store = SqlEventStore(engine)
    stream = log[-1].stream_id
    note = NewEvent.from_domain(
        NoteAdded(note_id=uuid4(), text="after the bulk load"),
        event_id=uuid4(),
        occurred_at=datetime.now(UTC),
        metadata=EventMetadata(actor=Actor(sub="t", org="bom", role="taskforce")),
    )
    appended = await store.append(stream, 50, [note])
    assert written == 650
    assert appended[0].position == 651 and appended[0].prev_hash == (await store.read_all(649))[0].hash
    assert (await store.verify_chain()).ok
    assert await Projector(engine).rebuild() == 651
    assert [event.stream_version for event in await store.load_stream(stream)] == list(range(1, 52))


async def test_bulk_loaded_contact_persons_open_with_their_keys_in_the_vault_and_erased_ones_do_not(
    database_url: str, engine: AsyncEngine
) -> None:
    """As the API would have left them: the vault holds a key per contact person that opens their sealed
    data, and none for a person whose erasure is in the log."""
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    raw = database_url.replace("postgresql+asyncpg://", "postgresql://").removeprefix("sqlite+aiosqlite:///")
    log = list(synthetic_log(leads=200, events=2000, active=20))

    await bulk_load(Database(kind, database_url, raw), log, batch_size=300)

    added = [ContactPersonAdded.model_validate(e.data) for e in log if e.type == "ContactPersonAdded"]
    erased = {
        PersonalDataErased.model_validate(e.data).person_id for e in log if e.type == "PersonalDataErased"
    }
    keys = await PersonVault(engine).keys(contact.person_id for contact in added)
    assert len(added) > 200 and erased
    assert set(keys) == {contact.person_id for contact in added} - erased
    for contact in added:
        opened = open_sealed(contact.person_id, contact.sealed, keys.get(contact.person_id))
        assert (opened is None) == (contact.person_id in erased)
        assert opened is None or opened.name.startswith("Contact ")


async def test_the_load_client_reopens_a_connection_the_server_closes() -> None:
    """As a browser would: an answer with `Connection: close` ends that connection; the next GET opens one
    (the API closes keep-alive connections after GROEIRUIMTE_API_KEEPALIVE_REQUESTS requests)."""
    accepted = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        for answered in (1, 2):
            line = await reader.readuntil(b"\r\n\r\n")
            body = line.split(b" ")[1]
            close = b"Connection: close\r\n" if answered == 2 else b""
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), close, body))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        connection = await Connection.open(f"http://127.0.0.1:{port}", "token")
        answers = [await connection.get(f"/{index}") for index in range(5)]
        await connection.close()
    finally:
        server.close()
        await server.wait_closed()
    assert answers == [(200, f"/{index}".encode()) for index in range(5)]
    assert (accepted, connection.reopened) == (3, 2)


async def test_the_load_client_measures_without_collecting_its_own_garbage() -> None:
    """A full collection of the benchmark's heap stalls every client at once; it must not be measured as
    the server's latency (as `timeit`, the loop runs with the collector off, and turns it on again)."""
    collecting: list[bool] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):  # the client closed
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()

    def url_for(index: int) -> str:
        collecting.append(gc.isenabled())
        return f"/{index}"

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        load = await closed_loop(f"http://127.0.0.1:{port}", "token", url_for, 10, 2, 5.0)
    finally:
        server.close()
    assert len(load.samples) == 10
    assert collecting == [False] * 10
    assert gc.isenabled()
