"""The application role may read which revision the schema is at (`alembic_version`): the API, the
projector and a rebuild check it at start and refuse a database that is not migrated to their code's head
(`services/persistence/migrate.py: require_current_schema`).

Revision ID: 0013_schema_version_readable
Revises: 0012_state_schema
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013_schema_version_readable"
down_revision: str | None = "0012_state_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "groeiruimte_app"  # created by 0001_event_store on PostgreSQL


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT ON alembic_version TO {APP_ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE SELECT ON alembic_version FROM {APP_ROLE}")
