"""Throwaway databases for a benchmark: a fresh PostgreSQL database or a SQLite file, migrated."""

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

from services.persistence.migrate import upgrade_database

POSTGRES_ADMIN_DSN = os.environ.get(
    "GROEIRUIMTE_BENCH_POSTGRES_DSN",
    os.environ.get("GROEIRUIMTE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


class PostgresUnavailableError(Exception):
    """The benchmarks need a PostgreSQL server and none answers."""


@dataclass(frozen=True)
class Database:
    """A migrated database: its SQLAlchemy URL and how a raw driver reaches it."""

    kind: str  # "postgresql" or "sqlite"
    url: str  # SQLAlchemy async URL, as the application is configured
    raw: str  # asyncpg DSN, or the SQLite file's path


async def postgres_available() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def postgres_version() -> str:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


@asynccontextmanager
async def postgres_database(purpose: str) -> AsyncIterator[Database]:
    """A fresh database named after the benchmark, migrated to head; dropped afterwards."""
    if not await postgres_available():
        raise PostgresUnavailableError(f"no PostgreSQL at {POSTGRES_ADMIN_DSN}")
    name = f"gr_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    database = Database(
        "postgresql", f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}", f"{base}/{name}"
    )
    try:
        await upgrade_database(database.url)
        yield database
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def sqlite_database(purpose: str) -> AsyncIterator[Database]:
    """A fresh SQLite file in a temporary directory, migrated to head; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"gr_bench_{purpose}_") as directory:
        path = Path(directory) / "bench.db"
        database = Database("sqlite", f"sqlite+aiosqlite:///{path}", str(path))
        await upgrade_database(database.url)
        yield database


def database_for(kind: str, purpose: str) -> AbstractAsyncContextManager[Database]:
    """A throwaway database of the given kind ("postgresql" or "sqlite")."""
    return postgres_database(purpose) if kind == "postgresql" else sqlite_database(purpose)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()
