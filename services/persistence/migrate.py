"""Schema migrations: Alembic run from code, so the app, the CLI and the tests share one path."""

import asyncio
from importlib.resources import files

from alembic import command
from alembic.config import Config


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
