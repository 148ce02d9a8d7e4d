"""The projector: folds new events of the log into the read models, in log order and exactly once.

Each batch is one transaction that first locks the checkpoint row, so projectors running side by side
take turns, and a crash rolls back both the read-model changes and the checkpoint together. On PostgreSQL a
rebuild also holds an advisory lock for as long as it runs; projectors that tail the log leave their batches
until it is released, so they neither slow the rebuild down nor make it drop a batch it folded ahead.
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Iterable
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.persistence.migrate import require_current_schema
from services.persistence.tables import events
from services.projections.folding import (
    FOLD_CHUNK_EVENTS,
    READ_PAGE_SIZE,
    LeadProjection,
    ReadModelRows,
    RecentProjections,
    fold_page,
    lock_checkpoint,
    no_cyclic_collections,
    read_events,
    set_checkpoint,
    write_rows,
)
from services.projections.rebuild_workers import project_in_workers
from services.projections.tables import READ_MODEL_TABLES

log = logging.getLogger("groeiruimte.projector")
# A rebuild folds up to this many events (and BATCH_LEADS leads) per transaction: each lead's rows are
# then written once per batch instead of once per few hundred events. A lead's events spread over more
# than 200,000 positions when a few thousand cases run at once, so batches of 200,000 wrote most leads
# twice; 400,000 folded a 1M-event log 8-10 % faster on SQLite (docs/benchmarks.md, tenth round).
REBUILD_BATCH_SIZE = 400_000
BATCH_LEADS = 20_000
CACHED_LEADS = 10_000
# pg_advisory_lock key held by a rebuild on PostgreSQL ("groe"); tailing projectors try it shared.
REBUILD_LOCK_KEY = 0x67726F65


def default_rebuild_workers() -> int:
    """Processes that fold a rebuild: one per core (the writes and the database's own work overlap them)."""
    return max(os.cpu_count() or 1, 1)


class Projector:
    """Keeps lead_summaries, lead_domains and partner_requests current with the event log.

    It remembers the projections it last committed (a bounded cache), so a lead's state is read back
    from the read model only when the cache lacks it, or when another projector has moved the
    checkpoint since (then the cache is dropped). A rebuild projects in much larger batches.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        batch_size: int = 500,
        *,
        rebuild_batch_size: int = REBUILD_BATCH_SIZE,
        cached_leads: int = CACHED_LEADS,
        rebuild_workers: int | None = None,
    ) -> None:
        self._engine = engine
        self._batch_size = batch_size
        self._rebuild_batch_size = max(batch_size, rebuild_batch_size)
        self._cached_leads = cached_leads
        self._cache = _ProjectionCache(cached_leads)
        self._rebuild_workers = default_rebuild_workers() if rebuild_workers is None else rebuild_workers

    async def run_once(self) -> int:
        """Project the next batch of events after the checkpoint; returns how many were applied.

        Nothing (0) while a rebuild runs on PostgreSQL: it projects those events itself."""
        return await self._project_batch(self._batch_size, tailing=True)

    async def run(self, stop: asyncio.Event, poll_seconds: float) -> None:
        """Project until `stop` is set, polling the log every `poll_seconds` when caught up.

        A database outage is waited out with backoff: the failed batch rolled back with its
        checkpoint, so trying again is safe. The first time the database answers, a schema behind this
        code raises SchemaNotCurrentError (services/persistence/migrate.py).
        """
        backoff, schema_checked = poll_seconds, False
        while not stop.is_set():
            try:
                if not schema_checked:
                    await require_current_schema(self._engine)
                    schema_checked = True
                applied = await self.run_once()
                backoff = poll_seconds
            except (OSError, DBAPIError) as error:
                log.warning("projector cannot reach the database (%s); retrying in %.1fs", error, backoff)
                applied, backoff = 0, min(backoff * 2, 30.0)
            if applied == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)

    async def rebuild(self) -> int:
        """Empty the read models and project the whole log again; returns the events applied.

        With more than one rebuild worker the events are folded in worker processes
        (services/projections/rebuild_workers.py); whatever they leave — events appended meanwhile, or all
        of it should another projector move the checkpoint — is projected here, one batch at a time.
        A schema behind this code raises SchemaNotCurrentError before anything is emptied."""
        await require_current_schema(self._engine)
        async with _rebuild_lock(self._engine):
            async with self._engine.begin() as connection:
                await lock_checkpoint(connection)
                for table in READ_MODEL_TABLES:
                    await connection.execute(delete(table))
                await set_checkpoint(connection, 0)
            self._cache.reset(0)
            with no_cyclic_collections():
                total = await self._project_in_workers()
                while applied := await self._project_batch(self._rebuild_batch_size):
                    total += applied
        await _refresh_statistics(self._engine)
        return total

    async def _project_in_workers(self) -> int:
        workers = self._rebuild_workers
        if workers < 2:
            return 0
        batch_size, cached_leads = self._rebuild_batch_size, self._cached_leads
        total = await project_in_workers(
            self._engine, workers=workers, batch_size=batch_size, cached_leads=cached_leads
        )
        if total:
            log.info("rebuild: %d events folded by %d worker processes", total, workers)
        return total

    async def _project_batch(self, limit: int, *, tailing: bool = False) -> int:
        """Fold up to `limit` events after the checkpoint in one transaction, writing each lead once."""
        async with self._engine.begin() as connection:
            checkpoint = await lock_checkpoint(connection)
            if tailing and await _rebuild_running(connection):
                return 0
            self._cache.continue_from(checkpoint)
            folded: dict[str, LeadProjection] = {}
            snapshots: list[dict[str, Any]] = []
            position, applied = checkpoint, 0
            # Bounded by events and by leads held: a log of many short histories must not fill memory.
            while applied < limit and len(folded) < BATCH_LEADS:
                # A chunk at a time, but no more leads than a page could add beyond BATCH_LEADS.
                chunk = min(FOLD_CHUNK_EVENTS, max(BATCH_LEADS - len(folded), READ_PAGE_SIZE))
                rows = await read_events(connection, position, min(chunk, limit - applied))
                if not rows:
                    break
                await fold_page(connection, rows, folded, self._cache, snapshots)
                position, applied = rows[-1].position, applied + len(rows)
            if not applied:
                return 0
            await write_rows(connection, ReadModelRows.of(folded.values(), snapshots))
            await set_checkpoint(connection, position)
        # Only what was committed enters the cache: a failed batch leaves it as it was.
        self._cache.committed(folded.values(), position)
        return applied


class _ProjectionCache(RecentProjections):
    """The projections of recently projected leads as committed at `position`, least recent first out."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self._position: int | None = None

    def continue_from(self, checkpoint: int) -> None:
        """Keep the cache only when the read models are still where this projector left them."""
        if checkpoint != self._position:
            self.reset(checkpoint)

    def reset(self, position: int) -> None:
        self.clear()
        self._position = position

    def committed(self, projections: Iterable[LeadProjection], position: int) -> None:
        self.keep(projections)
        self.trim(position)
        self._position = position


@contextlib.asynccontextmanager
async def _rebuild_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold the rebuild's advisory lock on PostgreSQL (waiting for tailing batches under way to end).

    A session lock on a connection of its own: it goes with the process, should the rebuild die."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("SELECT pg_advisory_lock(:key)"), {"key": REBUILD_LOCK_KEY})
        try:
            yield
        finally:
            try:
                await autocommit.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": REBUILD_LOCK_KEY})
            except (OSError, DBAPIError) as error:
                # Never hand a connection that may still hold the lock back to the pool: closed, it lets go.
                log.warning("could not release the rebuild lock (%s); closing its connection", error)
                await connection.invalidate()


async def _rebuild_running(connection: AsyncConnection) -> bool:
    """Whether a rebuild holds its lock; otherwise this transaction holds it shared until it ends."""
    if connection.dialect.name != "postgresql":
        return False
    statement = text("SELECT pg_try_advisory_xact_lock_shared(:key)")
    return not (await connection.execute(statement, {"key": REBUILD_LOCK_KEY})).scalar_one()


async def _refresh_statistics(engine: AsyncEngine) -> None:
    """After a rebuild on PostgreSQL: fresh planner statistics and a visibility map for the read models,
    without which the list's counts cannot be index-only scans until autovacuum comes by (measured at
    100,000 leads: 37 ms instead of 2 ms for one count), and fresh statistics for the log itself.

    A rebuild often follows a restore, which leaves the log without statistics (so does a server whose
    autovacuum is off): the planner then takes a stream's 125 events for 15,000 and reads them with a
    parallel scan, 10-16 ms instead of 1.5 for a case's replay (measured at 10M events). ANALYZE samples
    the table (about a second at 10M events). Only the tables' owner may; others skip it."""
    if engine.dialect.name != "postgresql":
        return
    statements = [f"VACUUM (ANALYZE) {table.name}" for table in READ_MODEL_TABLES] + [
        f"ANALYZE {events.name}"
    ]
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            try:
                await autocommit.execute(text(statement))
            except DBAPIError as error:
                log.warning("could not refresh statistics after the rebuild (%s): %s", statement, error.orig)
