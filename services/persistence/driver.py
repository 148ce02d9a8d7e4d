"""Hot statements run on the PostgreSQL driver itself: written with SQLAlchemy Core, compiled once, and
sent on a pooled connection's asyncpg connection.

Why: a one-row read through SQLAlchemy's execution path (compiled-cache lookup, cursor adapter, result
metadata, greenlet hops) took about 350 µs of CPU, pool checkout included, on this project's machines; the
same compiled statement sent by the driver on a connection from the same pool took about 130 µs. A write
of one statement in `engine.begin()` costs three round trips (BEGIN, the statement, COMMIT); on the
driver the statement is its own transaction, one round trip: 600 → 280 µs of CPU for an access-log group.
The API's single-lead read and its access-log writes, on every read request, are what this is for.

The pool, its checkout checks and the connection's reset stay SQLAlchemy's. Other databases run the
statement the usual way. On the driver, parameters and columns go as asyncpg takes and gives them,
without SQLAlchemy's type processing: meant for plain columns (text, numbers, bytes, timestamps, arrays
of them), not for custom column types.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.util import greenlet_spawn

from services.persistence.engine import single_statements

DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError)


class DriverStatement:
    """One statement with bound parameters, sent on the driver where the engine is PostgreSQL (asyncpg)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...]]] = {}

    async def first(self, engine: AsyncEngine, parameters: Mapping[str, Any]) -> Sequence[Any] | None:
        """The statement's first row (its columns in order), or None."""
        if engine.dialect.driver != "asyncpg":
            async with single_statements(engine).connect() as connection:
                found: Sequence[Any] | None = (
                    await connection.execute(self.statement, dict(parameters))
                ).first()
            return found
        row: Sequence[Any] | None = await self._on_driver(engine, "fetchrow", parameters)
        return row

    async def execute(self, engine: AsyncEngine, parameters: Mapping[str, Any]) -> None:
        """Run the statement as its own transaction, committed when this returns."""
        if engine.dialect.driver != "asyncpg":
            async with engine.begin() as connection:
                await connection.execute(self.statement, dict(parameters))
            return
        await self._on_driver(engine, "execute", parameters)

    async def _on_driver(self, engine: AsyncEngine, method: str, parameters: Mapping[str, Any]) -> Any:
        sql, names = self._sql(engine.dialect)
        # The pool's connection itself, without a SQLAlchemy Connection around it (~70 µs less per use).
        pooled = await engine.raw_connection()
        try:
            driver: Any = pooled.driver_connection
            return await getattr(driver, method)(sql, *(parameters[name] for name in names))
        except DRIVER_ERRORS as error:
            # What SQLAlchemy would have raised: the API answers it as the database being unavailable.
            # The pool checks the connection (closed or idle) before it hands it out again.
            raise DBAPIError(sql, dict(parameters), error) from error
        finally:
            await greenlet_spawn(pooled.close)  # back to the pool (its reset may talk to the driver)

    def _sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
        """The statement as the driver takes it ($1, $2 …) and the parameter names in that order."""
        found = self._compiled.get(dialect.name)
        if found is None:
            assert isinstance(self.statement, ClauseElement)
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            found = self._compiled[dialect.name] = (compiled.string, tuple(compiled.positiontup or ()))
        return found
