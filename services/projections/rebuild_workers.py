"""A rebuild with the fold spread over worker processes, each taking a share of the leads.

Folding is most of a rebuild's time, and in one process it runs on one core. Here the process that runs the
rebuild (the coordinator) cuts the log into batches of positions; every worker reads the batch's events of
its share of the leads straight from the log, folds them onto the projections it holds (or reads back from
the read model) and sends the rows to write. The coordinator writes every share of a batch and moves the
checkpoint in one transaction, exactly as a batch in one process does: a crash leaves read models and
checkpoint consistent, and a tailing projector continues from there. While it writes batch k, the workers
fold k+1.

On PostgreSQL the rebuild holds its advisory lock meanwhile, so tailing projectors leave the checkpoint
alone. Should it still have moved (on SQLite, or a projector that does not know the lock), the batch folded
ahead is dropped and the caller goes on one batch at a time.
"""

import asyncio
import contextlib
import gc
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.persistence.engine import create_engine
from services.persistence.tables import log_head
from services.projections.folding import (
    FOLD_CHUNK_EVENTS,
    READ_PAGE_SIZE,
    LeadProjection,
    LoggedEvent,
    ReadModelRows,
    RecentProjections,
    fold_page,
    lock_checkpoint,
    set_checkpoint,
    write_rows,
)
from services.projections.read_cache import checkpoint_position

WORKER_STOP_SECONDS = 10.0


class RebuildWorkerError(RuntimeError):
    """A rebuild worker failed or stopped; the batches committed before it stay, the rest is not projected."""


@dataclass(frozen=True)
class _Batch:
    after: int  # the checkpoint it continues from
    until: int  # the last position it covers


async def project_in_workers(engine: AsyncEngine, *, workers: int, batch_size: int, cached_leads: int) -> int:
    """Project the log after the checkpoint in batches of `batch_size` positions folded by `workers`
    processes; returns the events applied. Leaves it to the caller when the log holds less than half a batch
    (starting processes would cost more than they save) or when another projector moves the checkpoint."""
    async with engine.connect() as connection:
        batch = await _next_batch(connection, await checkpoint_position(connection) or 0, batch_size)
    if batch is None or batch.until - batch.after < max(batch_size // 2, 1):
        return 0
    total = 0
    with _Workers(engine.url.render_as_string(hide_password=False), workers, cached_leads) as pool:
        pool.fold(batch)
        while batch is not None:
            async with engine.connect() as connection:
                following = await _next_batch(connection, batch.until, batch_size)
            rows = ReadModelRows.merged(await pool.rows())
            if following is not None:
                pool.fold(following)
            if not await _commit(engine, batch, rows):
                return total
            pool.committed(batch.until)
            total, batch = total + rows.events, following
    return total


async def _next_batch(connection: AsyncConnection, after: int, size: int) -> _Batch | None:
    """The next `size` positions after `after` (fewer at the log's head), or None at the head."""
    head = (await connection.execute(select(log_head.c.last_position))).scalar_one_or_none()
    return None if head is None or head <= after else _Batch(after, min(after + size, int(head)))


async def _commit(engine: AsyncEngine, batch: _Batch, rows: ReadModelRows) -> bool:
    """Write a batch and move the checkpoint past it, unless another projector has moved it meanwhile."""
    async with engine.begin() as connection:
        if await lock_checkpoint(connection) != batch.after:
            return False
        await write_rows(connection, rows)
        await set_checkpoint(connection, batch.until)
    return True


class _Workers:
    """The worker processes and a pipe to each. Started with `spawn`: a fork would copy the coordinator's
    event loop and connections."""

    def __init__(self, url: str, count: int, cached_leads: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        self._busy = False
        for share in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=serve_share,
                args=(theirs, url, share, count, cached_leads),
                name=f"groeiruimte-rebuild-{share}",
                daemon=True,
            )
            with _main_module_left_out():
                process.start()
            theirs.close()
            self._pipes.append(ours)
            self._processes.append(process)

    def __enter__(self) -> "_Workers":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        # All are told first, then waited for: each takes a moment to let go of what it held.
        stopping = [] if self._busy else [process for process in self._processes if process.is_alive()]
        for pipe, process in zip(self._pipes, self._processes, strict=True):
            if process in stopping:
                pipe.send(None)
        for process in self._processes:
            # A worker still folding a batch that will not be written is not waited for.
            process.join(WORKER_STOP_SECONDS if process in stopping else 0)
            if process.is_alive():
                process.terminate()
                process.join()
        for pipe in self._pipes:
            pipe.close()

    def fold(self, batch: _Batch) -> None:
        for pipe in self._pipes:
            pipe.send(("fold", batch.after, batch.until))
        self._busy = True

    def committed(self, position: int) -> None:
        for pipe in self._pipes:
            pipe.send(("committed", position))

    async def rows(self) -> list[ReadModelRows]:
        """Every worker's rows of the batch they fold; raises if one failed or stopped."""
        replies = await asyncio.gather(
            *(asyncio.to_thread(self._receive, share) for share in range(len(self._pipes)))
        )
        self._busy = False
        return replies

    def _receive(self, share: int) -> ReadModelRows:
        try:
            kind, reply = self._pipes[share].recv()
        except EOFError:
            code = self._processes[share].exitcode
            raise RebuildWorkerError(f"rebuild worker {share} stopped (exit code {code})") from None
        if kind == "error":
            raise RebuildWorkerError(f"rebuild worker {share} failed:\n{reply}")
        assert isinstance(reply, ReadModelRows)
        return reply


@contextlib.contextmanager
def _main_module_left_out() -> Iterator[None]:
    """Start a worker without the program that starts it.

    A `spawn`ed process imports the parent's `__main__` module again (so that what it defines can be
    unpickled) unless that module has neither a spec nor a file. A worker needs nothing of it: its target
    lives in this module. Started from `groeiruimte` that import is the whole application, 1.3 s of CPU
    per worker before it folds anything (from the benchmark runner 2 s), on cores the rebuild needs.
    """
    main = sys.modules["__main__"]
    spec, file = main.__spec__, main.__dict__.pop("__file__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__spec__ = spec
        if file is not None:
            main.__file__ = file


def serve_share(pipe: Connection, url: str, share: int, shares: int, cached_leads: int) -> None:
    """A worker process: fold the batches the coordinator sends, for the leads of this share.

    Ctrl-C reaches the whole process group; the coordinator stops its workers itself, so they ignore it.
    That also keeps `asyncio.Runner` from putting in a SIGINT handler of its own for every batch, whose
    check on the way out (`signal.getsignal`) formatted the handler's repr: the task, with the batch's
    rows as its result — a twelfth of a worker's time. The worker ends with `os._exit`: collecting and
    freeing the millions of objects it holds would keep the coordinator waiting for seconds.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()  # see no_cyclic_collections; the process ends with the rebuild
    with asyncio.Runner() as runner:
        worker = _ShareFolder(url, share, shares, cached_leads)
        try:
            while (message := _next_message(pipe)) is not None:
                kind, position, *rest = message
                if kind == "committed":
                    worker.committed(position)
                    continue
                try:
                    pipe.send(("rows", runner.run(worker.fold(position, rest[0]))))
                except Exception:  # the coordinator raises it, with this text
                    pipe.send(("error", traceback.format_exc()))
        finally:
            runner.run(worker.close())
    os._exit(0)


def _next_message(pipe: Connection) -> Any:
    try:
        return pipe.recv()
    except EOFError:  # the coordinator is gone
        return None


class _ShareFolder:
    """One worker's fold: its leads' projections, kept until they are both committed and least recent."""

    def __init__(self, url: str, share: int, shares: int, cached_leads: int) -> None:
        self._engine = create_engine(url, pool_size=2)  # one reads the log, one the read model
        self._share, self._shares = share, shares
        self._held = RecentProjections(cached_leads)

    async def fold(self, after: int, until: int) -> ReadModelRows:
        folded: dict[str, LeadProjection] = {}
        snapshots: list[dict[str, Any]] = []
        chunks: asyncio.Queue[list[LoggedEvent] | BaseException] = asyncio.Queue(maxsize=1)
        async with self._engine.connect() as reading, self._engine.begin() as loading:
            reader = asyncio.create_task(self._read(reading, after, until, chunks))
            events = 0
            try:
                while chunk := await chunks.get():
                    if isinstance(chunk, BaseException):
                        raise chunk
                    await fold_page(loading, chunk, folded, self._held, snapshots)
                    events += len(chunk)
            finally:
                reader.cancel()
        self._held.keep(folded.values())
        return ReadModelRows.of(folded.values(), snapshots, events=events)

    def committed(self, position: int) -> None:
        self._held.trim(position)

    async def close(self) -> None:
        await self._engine.dispose()

    async def _read(
        self,
        connection: AsyncConnection,
        after: int,
        until: int,
        chunks: "asyncio.Queue[list[LoggedEvent] | BaseException]",
    ) -> None:
        """Put the share's events in (after, until] on `chunks`, FOLD_CHUNK_EVENTS or more at a time (fewer
        at the end), an empty chunk last.

        A task of its own on a connection of its own: it reads the next chunk while the worker folds one.
        It reads a page at a time, and pages are ranges of positions, not LIMITs: a LIMIT under the share's
        filter let PostgreSQL's planner scan and sort the rest of the batch for every page (0.9 s instead
        of 12 ms, on a log not yet analysed)."""
        try:
            position, chunk = after, list[LoggedEvent]()
            while position < until:
                upto = min(position + READ_PAGE_SIZE, until)
                chunk += await self._page(connection, position, upto)
                if len(chunk) >= FOLD_CHUNK_EVENTS or (chunk and upto == until):
                    await chunks.put(chunk)
                    chunk = []
                position = upto
            await chunks.put([])
        except Exception as error:  # the folding side raises it
            await chunks.put(error)

    async def _page(self, connection: AsyncConnection, after: int, upto: int) -> list[LoggedEvent]:
        """The share's events at positions in (after, upto], in log order.

        Through the driver, not SQLAlchemy's result processing: a rebuild reads every event of the log,
        and on SQLite turning its two timestamps' text into datetimes that way cost more than the rest of
        reading it."""
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        if connection.dialect.name == "postgresql":
            rows = await driver.fetch(_READ_SHARE_SQL, after, upto, self._shares, self._share)
            return list(map(LoggedEvent._make, rows))
        arguments = (after, upto, self._shares, self._share)
        lite_rows = await driver.execute_fetchall(_READ_SHARE_SQLITE, arguments)
        parse = datetime.fromisoformat  # the query adds the zone: aware UTC datetimes, the fastest way
        return [
            LoggedEvent(position, stream, kind, version, data, parse(occurred), parse(recorded))
            for position, stream, kind, version, data, occurred, recorded in lite_rows
        ]


# A stream's share: its id's hash (PostgreSQL's own, so every worker agrees) modulo the workers. Streams
# other than leads' are read too, and passed over by the fold, as in one process.
_READ_SHARE_SQL = (
    "SELECT position, stream_id, type, schema_version, data::text, occurred_at, recorded_at FROM events"
    " WHERE position > $1 AND position <= $2"
    " AND mod(hashtext(stream_id) & 2147483647, $3) = $4 ORDER BY position"
)
# UtcDateTime keeps SQLite's timestamps in UTC without a zone; the query adds it.
# SQLite has no hash function: its last two characters, read as hex digits (a lead's stream id ends in
# its UUID; anything else counts as 0), spread streams evenly and the same way in every worker.
_READ_SHARE_SQLITE = (
    "SELECT position, stream_id, type, schema_version, CAST(data AS TEXT),"
    " occurred_at || '+00:00', recorded_at || '+00:00'"
    " FROM events WHERE position > ? AND position <= ?"
    " AND (instr('0123456789abcdef', substr(stream_id, -1))"
    " + 16 * instr('0123456789abcdef', substr(stream_id, -2, 1))) % ? = ? ORDER BY position"
)
