"""Async engines configured the same way for every process."""

import time
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only


def create_engine(url: str, *, pool_size: int = 5, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout so processes can share it.

    A server database keeps up to `pool_size` connections open, and opens up to half as many again for a
    burst (closed when returned, so a burst beyond the pool costs a connection set-up per checkout). The
    connection returned last is used next (LIFO): a steady load keeps to the same few connections and
    PostgreSQL backends instead of rotating through the whole pool (docs/benchmarks.md, ninth round). A
    checkout replaces a connection that has gone away: one the server closed is known without asking, and
    one that sat idle for PING_AFTER_IDLE_SECONDS or more is asked in one round trip first.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    overflow = max(pool_size // 2, 1)
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=overflow, pool_use_lifo=True, **kwargs
    )
    event.listen(engine.sync_engine, "checkout", _ping)
    event.listen(engine.sync_engine, "checkin", _returned)
    return engine


_autocommitting: "weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine]" = weakref.WeakKeyDictionary()


def single_statements(engine: AsyncEngine) -> AsyncEngine:
    """The engine (same pool) without a transaction around each use: for reads of one statement, which
    see one moment of the database anyway; spares a BEGIN and a ROLLBACK round trip per read."""
    found = _autocommitting.get(engine)
    if found is None:
        found = _autocommitting[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


# A connection back in the pool this recently is not asked whether it is still there: one the server
# ended (a restart, pg_terminate_backend, a failover) has seen its socket close and says so without a
# round trip. Asking only what sat idle longer catches what a closed socket does not show — a firewall or
# NAT that dropped an idle connection silently — without a round trip per checkout under load (on a busy
# API the ping was a query per query).
PING_AFTER_IDLE_SECONDS = 5.0
_RETURNED_AT = "groeiruimte_returned_at"


def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """pool_pre_ping, cheaper: a closed connection is refused at once, an idle one is asked in one round
    trip (the asyncpg dialect's ping takes three: BEGIN, `;`, ROLLBACK), a busy one is used.

    A connection refused here is replaced: the pool retries the checkout with a new one."""
    driver = dbapi_connection.driver_connection
    if driver.is_closed():
        raise DisconnectionError("pooled connection was closed")
    returned = record.info.get(_RETURNED_AT)
    if returned is not None and time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
        return
    try:
        await_only(driver.execute("SELECT 1"))
    except Exception as error:
        raise DisconnectionError(f"pooled connection is gone: {error}") from error


def _returned(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info[_RETURNED_AT] = time.monotonic()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
