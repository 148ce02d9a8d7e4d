"""A rebuild folded by worker processes (services/projections/rebuild_workers.py), on SQLite and PostgreSQL:
the same read models as one process builds, batches written whole with their checkpoint or not at all,
and on PostgreSQL tailing projectors that wait for it."""

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from events import model as ev
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.persistence.migrate import upgrade_database
from services.projections import rebuild_workers
from services.projections.folding import ReadModelRows
from services.projections.projector import REBUILD_LOCK_KEY, Projector
from services.projections.rebuild_workers import RebuildWorkerError
from services.projections.tables import (
    READ_MODEL_TABLES,
    SNAPSHOT_EVERY,
    lead_snapshots,
    lead_summaries,
    projection_checkpoints,
)
from tests.integration.test_projections import Lead, at, build_varied_history, snapshot

BATCH = 40  # events per rebuild batch: several batches, so the workers fold one while the last is written


@pytest.fixture
async def postgres_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade_database(postgres_url)
    engine = create_engine(postgres_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def postgres_store(postgres_engine: AsyncEngine) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(postgres_engine)
    yield store
    await store.close()


@pytest.fixture
async def store(engine: AsyncEngine) -> AsyncIterator[SqlEventStore]:
    store = SqlEventStore(engine)
    yield store
    await store.close()


def in_workers(engine: AsyncEngine) -> Projector:
    return Projector(engine, batch_size=BATCH, rebuild_batch_size=BATCH, rebuild_workers=2)


async def long_and_varied_log(engine: AsyncEngine, store: SqlEventStore) -> None:
    """Leads through every kind of step, and one long enough for a snapshot, projected as they go."""
    projector = Projector(engine, batch_size=3)
    await build_varied_history(store, projector)
    long_lead = await Lead(store).signal(at(2025, 5, 1), "Langlopend BV")
    for number in range(SNAPSHOT_EVERY + 20):
        await long_lead.add(ev.NoteAdded(note_id=uuid4(), text=f"note {number}"), at(2025, 5, 2))
    while await projector.run_once():
        pass


async def checkpoint(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(select(projection_checkpoints.c.position))).scalar_one())


async def test_a_rebuild_folded_by_worker_processes_gives_the_read_models_one_process_gives(
    engine: AsyncEngine, store: SqlEventStore, caplog: pytest.LogCaptureFixture
) -> None:
    await long_and_varied_log(engine, store)
    incremental = await snapshot(engine)

    with caplog.at_level(logging.INFO, logger="groeiruimte.projector"):
        applied = await in_workers(engine).rebuild()

    assert applied == len(await store.read_all()) > 5 * BATCH
    assert await snapshot(engine) == incremental
    assert len(incremental["lead_snapshots"]) == 1
    assert f"rebuild: {applied} events folded by 2 worker processes" in caplog.messages


async def test_a_log_of_half_a_batch_or_more_is_folded_by_workers_and_a_shorter_one_in_one_process(
    engine: AsyncEngine, store: SqlEventStore, caplog: pytest.LogCaptureFixture
) -> None:
    await long_and_varied_log(engine, store)
    incremental = await snapshot(engine)
    events = len(await store.read_all())

    with caplog.at_level(logging.INFO, logger="groeiruimte.projector"):
        # The whole log is exactly half a batch: one batch, folded by the workers.
        whole = Projector(engine, batch_size=BATCH, rebuild_batch_size=2 * events, rebuild_workers=2)
        assert await whole.rebuild() == events
        assert f"rebuild: {events} events folded by 2 worker processes" in caplog.messages
        assert await snapshot(engine) == incremental
        caplog.clear()

        shorter = Projector(engine, batch_size=BATCH, rebuild_batch_size=2 * events + 2, rebuild_workers=2)
        assert await shorter.rebuild() == events
        assert not [message for message in caplog.messages if "worker processes" in message]
        assert await snapshot(engine) == incremental


async def test_a_share_folded_in_chunks_of_several_pages_gives_the_rows_of_one_fold(
    engine: AsyncEngine, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await long_and_varied_log(engine, store)
    async with engine.begin() as connection:  # as a rebuild starts: nothing projected yet
        for table in READ_MODEL_TABLES:
            await connection.execute(delete(table))
    head = len(await store.read_all())
    url = engine.url.render_as_string(hide_password=False)

    async def shares_folded() -> list[ReadModelRows]:
        folded = []
        for share in range(2):
            folder = rebuild_workers._ShareFolder(url, share, 2, cached_leads=1000)
            try:
                folded.append(await folder.fold(0, head))
            finally:
                await folder.close()
        return folded

    at_once = await shares_folded()  # the whole log is less than one page and one chunk
    monkeypatch.setattr(rebuild_workers, "READ_PAGE_SIZE", 3)
    monkeypatch.setattr(rebuild_workers, "FOLD_CHUNK_EVENTS", 7)  # chunks of three pages, the last shorter
    in_chunks = await shares_folded()

    assert in_chunks == at_once
    assert sum(rows.events for rows in in_chunks) == head > 7 * 3
    assert all(rows.summaries for rows in in_chunks)


@pytest.mark.postgres
async def test_tailing_projectors_leave_the_log_to_a_rebuild_that_runs(
    postgres_engine: AsyncEngine, postgres_store: SqlEventStore, postgres_url: str
) -> None:
    engine = postgres_engine
    await Lead(postgres_store).signal(at(2025, 3, 1))
    rebuilding = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        await rebuilding.execute("SELECT pg_advisory_lock($1)", REBUILD_LOCK_KEY)  # as a rebuild holds it

        assert await Projector(engine).run_once() == 0
        assert await checkpoint(engine) == 0

        await rebuilding.execute("SELECT pg_advisory_unlock($1)", REBUILD_LOCK_KEY)
        assert await Projector(engine).run_once() == 1
    finally:
        await rebuilding.close()


@pytest.mark.postgres
async def test_a_rebuild_leaves_planner_statistics_for_the_log_and_the_read_models(
    postgres_engine: AsyncEngine, postgres_store: SqlEventStore, postgres_url: str
) -> None:
    """As after a restore: a log without statistics, which a stream's replay was slow on (a parallel scan
    for what the planner took to be thousands of rows)."""
    await build_varied_history(postgres_store, Projector(postgres_engine, batch_size=3))
    raw = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        assert not await raw.fetchval("SELECT count(*) FROM pg_stats WHERE tablename = 'events'")

        await Projector(postgres_engine).rebuild()

        columns = await raw.fetch("SELECT attname FROM pg_stats WHERE tablename = 'events'")
        assert {"stream_id", "stream_version", "position"} <= {row["attname"] for row in columns}
        visible = await raw.fetchval("SELECT relallvisible FROM pg_class WHERE relname = 'lead_summaries'")
        assert visible > 0  # vacuumed: the list's counts can be index-only scans
    finally:
        await raw.close()


async def test_a_rebuild_finishes_one_batch_at_a_time_when_another_projector_moved_its_checkpoint(
    engine: AsyncEngine, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await long_and_varied_log(engine, store)
    incremental = await snapshot(engine)
    commit = rebuild_workers._commit
    commits = 0

    async def after_an_unaware_projector(*arguments: Any) -> bool:
        nonlocal commits
        commits += 1
        if commits == 2:  # a projector that does not know the rebuild's lock folds a batch first
            await Projector(engine, batch_size=5)._project_batch(5)
        return await commit(*arguments)

    monkeypatch.setattr(rebuild_workers, "_commit", after_an_unaware_projector)

    applied = await in_workers(engine).rebuild()

    assert commits == 2
    assert applied + 5 == len(await store.read_all())  # those five were the other projector's
    assert await snapshot(engine) == incremental


async def test_a_worker_that_fails_stops_the_rebuild_and_the_written_batches_stay(
    engine: AsyncEngine, store: SqlEventStore
) -> None:
    await long_and_varied_log(engine, store)
    # A history that cannot start with a note: the fold refuses it, several batches into the log.
    await Lead(store).add(ev.NoteAdded(note_id=uuid4(), text="orphan"), at(2025, 6, 1))

    with pytest.raises(RebuildWorkerError, match="cannot start"):
        await in_workers(engine).rebuild()

    written = await checkpoint(engine)
    assert 0 < written < len(await store.read_all()) and written % BATCH == 0
    async with engine.connect() as connection:
        leads = (await connection.execute(select(lead_summaries.c.lead_id))).scalars().all()
        snapshots = (await connection.execute(select(lead_snapshots.c.lead_id))).scalars().all()
    assert len(leads) == 5 and len(snapshots) == 1
    # The rebuild's lock went with it: a tailing projector goes on from the last written batch.
    with pytest.raises(ValueError, match="cannot start"):
        await Projector(engine, batch_size=1000).run_once()


@pytest.mark.postgres
async def test_the_cli_rebuild_folds_in_worker_processes(
    postgres_engine: AsyncEngine, postgres_store: SqlEventStore, postgres_url: str
) -> None:
    engine, store = postgres_engine, postgres_store
    await long_and_varied_log(engine, store)
    incremental = await snapshot(engine)

    rebuild = await cli_rebuild(postgres_url, BATCH, output=asyncio.subprocess.PIPE)
    output, errors = await rebuild.communicate()

    assert rebuild.returncode == 0, errors.decode()
    applied = len(await store.read_all())
    assert f"rebuilt read models from {applied} events" in output.decode()
    assert f"rebuild: {applied} events folded by 2 worker processes" in errors.decode()
    assert await snapshot(engine) == incremental


PROGRAM = """
import asyncio, logging, sys
with open(sys.argv[2], "a") as imports:
    imports.write("imported\\n")  # at import, as a program without a __main__ guard does its work

from services.persistence.engine import create_engine
from services.projections.projector import Projector

async def rebuild() -> None:
    engine = create_engine(sys.argv[1])
    await Projector(engine, 40, rebuild_batch_size=40, rebuild_workers=2).rebuild()
    await engine.dispose()

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(rebuild())
"""


async def test_the_workers_leave_the_program_that_runs_the_rebuild_alone(
    engine: AsyncEngine, store: SqlEventStore, database_url: str, tmp_path: Path
) -> None:
    """A spawned process imports its parent's main module again unless told otherwise: every worker
    would run the program's top level once more (for the CLI, the whole application)."""
    await long_and_varied_log(engine, store)
    incremental = await snapshot(engine)
    (program := tmp_path / "program.py").write_text(PROGRAM)
    imports = tmp_path / "imports.txt"

    run = await asyncio.create_subprocess_exec(
        sys.executable, str(program), database_url, str(imports), stderr=asyncio.subprocess.PIPE
    )
    _, errors = await run.communicate()

    assert run.returncode == 0, errors.decode()
    assert "folded by 2 worker processes" in errors.decode()
    assert imports.read_text() == "imported\n"  # by the program itself, by neither worker
    assert await snapshot(engine) == incremental


async def cli_rebuild(database_url: str, batch_size: int, *, output: int) -> asyncio.subprocess.Process:
    """`groeiruimte projections rebuild --workers 2` in a process of its own."""
    options = ["--workers", "2", "--batch-size", str(batch_size)]
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", "projections", "rebuild", *options,
        env={**os.environ, "GROEIRUIMTE_DATABASE_URL": database_url}, stdout=output, stderr=output,
    )  # fmt: skip


async def until(condition: Callable[[], Awaitable[bool]], what: str, within: float = 30) -> None:
    for _ in range(int(within / 0.01)):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {within} s: {what}")


@pytest.mark.postgres
async def test_a_rebuild_killed_midway_leaves_read_models_that_tailing_projection_completes(
    postgres_engine: AsyncEngine, postgres_store: SqlEventStore, postgres_url: str
) -> None:
    engine, store = postgres_engine, postgres_store
    await long_and_varied_log(engine, store)  # the long lead's snapshot comes in one of the last batches
    incremental = await snapshot(engine)
    logged = len(await store.read_all())
    raw = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    rebuild = await cli_rebuild(postgres_url, 10, output=asyncio.subprocess.DEVNULL)
    try:
        # Hold the rebuild at the batch that writes the snapshot, and kill it there.
        await until(lambda: _between(checkpoint(engine), 0, logged), "the rebuild wrote its first batch")
        workers = spawned_workers(rebuild.pid)
        async with raw.transaction():
            await raw.execute("LOCK TABLE lead_snapshots IN SHARE MODE")
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
            database = postgres_url.rsplit("/", 1)[1]

            async def blocked() -> bool:
                return bool(await raw.fetchval(waiting, database))

            await until(blocked, "the rebuild waits for the snapshots")
            rebuild.kill()
            await rebuild.wait()
        assert 0 < await checkpoint(engine) < logged

        # The workers went with it, and the rebuild's lock with its session: tailing projection completes.
        assert len(workers) == 2
        await until(lambda: _none_alive(workers), "the rebuild's workers stopped")
        projector = Projector(engine, batch_size=50)
        while await projector.run_once():
            pass
        assert await checkpoint(engine) == logged
        assert await snapshot(engine) == incremental
    finally:
        if rebuild.returncode is None:
            rebuild.kill()
        await raw.close()


def spawned_workers(pid: int) -> list[int]:
    """The multiprocessing worker processes whose parent is `pid` (Linux /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            child = f"\nPPid:\t{pid}\n" in status.read_text()
            if child and b"spawn_main" in (status.parent / "cmdline").read_bytes():
                found.append(int(status.parent.name))
    return found


def running(pid: int) -> bool:
    """Whether the process runs (a zombie waiting for its new parent to reap it does not)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


async def _none_alive(pids: list[int]) -> bool:
    return not any(map(running, pids))


async def _between(value: Awaitable[int], low: int, high: int) -> bool:
    return low < await value < high
