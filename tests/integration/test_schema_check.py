"""The API and the projector refuse to start on a database that is not migrated to their code's head."""

import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from services.api.app import create_app
from services.persistence.engine import create_engine
from services.persistence.migrate import SchemaNotCurrentError, require_current_schema, upgrade_database
from services.processes import rebuild_projections, run_projector
from services.settings import Settings
from tests.conftest import POSTGRES_ADMIN_DSN, create_postgres_database, drop_postgres_database


def _settings(url: str, temporal_env: WorkflowEnvironment | None = None) -> Settings:
    settings = Settings(_env_file=None, database_url=url)
    if temporal_env is not None:
        settings.temporal_address = temporal_env.client.service_client.config.target_host
    return settings


async def test_the_api_will_not_start_on_a_database_that_was_never_migrated(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    app = create_app(_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", temporal_env))

    with pytest.raises(SchemaNotCurrentError, match=r"never migrated.*run `groeiruimte migrate` first"):
        async with app.router.lifespan_context(app):
            pass


async def test_the_api_starts_on_a_migrated_database(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    await upgrade_database(url)
    app = create_app(_settings(url, temporal_env))

    async with app.router.lifespan_context(app):
        assert app.state.container.engine is not None


async def test_a_database_one_migration_behind_is_refused_with_the_revision_it_is_at(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'behind.db'}"
    await upgrade_database(url, "0012_state_schema")
    engine = create_engine(url)
    try:
        with pytest.raises(SchemaNotCurrentError, match=r"at 0012_state_schema, this code needs \d{4}_"):
            await require_current_schema(engine)
        await upgrade_database(url)
        await require_current_schema(engine)  # and after the migration, it passes
    finally:
        await engine.dispose()


async def test_a_database_a_later_release_migrated_is_accepted_so_the_running_release_may_restart(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'later.db'}"
    await upgrade_database(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '0099_a_later_release'"))
        await require_current_schema(engine)
    finally:
        await engine.dispose()


async def test_the_projector_and_a_rebuild_will_not_start_on_a_database_that_was_never_migrated(
    tmp_path: Path,
) -> None:
    settings = _settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")

    with pytest.raises(SchemaNotCurrentError):
        await run_projector(settings)
    with pytest.raises(SchemaNotCurrentError):
        await rebuild_projections(settings)


@pytest.mark.postgres
async def test_the_application_role_reads_the_schema_revision_on_postgresql_from_migration_0013() -> None:
    name, url = await create_postgres_database()
    role = f"gr_schema_app_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    engine = create_engine(url.replace("://postgres@", f"://{role}@", 1))
    try:
        await upgrade_database(url, "0012_state_schema")  # creates groeiruimte_app
        await admin.execute(f"CREATE ROLE {role} LOGIN IN ROLE groeiruimte_app")
        with pytest.raises(SchemaNotCurrentError, match="cannot read the database's schema revision"):
            await require_current_schema(engine)

        await upgrade_database(url)
        await require_current_schema(engine)
    finally:
        await engine.dispose()
        await drop_postgres_database(name)
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()
