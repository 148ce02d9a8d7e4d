"""Async engines configured the same way for every process."""

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_only


def create_engine(url: str, *, pool_size: int = 5, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout so processes can share it.

    A server database keeps up to `pool_size` connections open, and opens up to half as many again for a
    burst (closed when returned, so a burst beyond the pool costs a connection set-up per checkout). Every
    checkout first checks its connection in one round trip, and replaces one that has gone away.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    overflow = max(pool_size // 2, 1)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=overflow, **kwargs)
    event.listen(engine.sync_engine, "checkout", _ping)
    return engine


_autocommitting: "weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine]" = weakref.WeakKeyDictionary()


def single_statements(engine: AsyncEngine) -> AsyncEngine:
    """The engine (same pool) without a transaction around each use: for reads of one statement, which
    see one moment of the database anyway; spares a BEGIN and a ROLLBACK round trip per read."""
    found = _autocommitting.get(engine)
    if found is None:
        found = _autocommitting[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return found


def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """pool_pre_ping in one round trip (the asyncpg dialect's takes three: BEGIN, `;`, ROLLBACK).

    A connection that fails it is replaced: the pool retries the checkout with a new one."""
    try:
        await_only(dbapi_connection.driver_connection.execute("SELECT 1"))
    except Exception as error:
        raise DisconnectionError(f"pooled connection is gone: {error}") from error


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
