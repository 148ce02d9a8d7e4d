"""Schema migrations: Alembic run from code, so the app, the CLI and the tests share one path."""

import asyncio
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["SchemaNotCurrentError", "alembic_config", "require_current_schema", "upgrade_database"]


class SchemaNotCurrentError(RuntimeError):
    """The database's schema is not the one this code was written for (never migrated, or not yet)."""


def alembic_config(url: str) -> Config:
    """An Alembic configuration for `url`, built in code (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    # ConfigParser interpolates `%`, which percent-encoded passwords contain.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_database(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`.

    Runs in a worker thread: migrations/env.py starts its own event loop there, so this may be awaited
    from inside a running loop.
    """
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)


async def require_current_schema(engine: AsyncEngine) -> None:
    """Raise SchemaNotCurrentError unless the database is migrated to this code's head revision or later.

    A process started before `groeiruimte migrate` finished (or after an upgrade without it) stops with
    this one line instead of failing on the first query that meets a missing table or column (a database
    that does not answer raises what its driver raises: the caller decides whether to wait). A revision
    these scripts do not know is a later release's: migrations stay backward compatible with the release
    still running (docs/operations.md), so its processes may restart while the new one rolls out.
    """
    scripts = ScriptDirectory.from_config(alembic_config(""))
    heads = set(scripts.get_heads())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(current)
    except ProgrammingError as error:  # the application role reads alembic_version from 0013 on
        raise SchemaNotCurrentError(
            f"cannot read the database's schema revision ({error.orig}), this code needs"
            f" {', '.join(sorted(heads))}: run `groeiruimte migrate` first"
        ) from error
    if found == heads or any(not _known(scripts, revision) for revision in found):
        return
    at = ", ".join(sorted(found)) or "no revision (never migrated)"
    raise SchemaNotCurrentError(
        f"the database schema is at {at}, this code needs {', '.join(sorted(heads))}:"
        " run `groeiruimte migrate` first"
    )


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        scripts.get_revision(revision)
    except CommandError:  # alembic.util's ResolutionError is one
        return False
    return True
