"""Web UI and reports: the qualitative text of each half-year, every version kept.

Revision ID: 0006_ui
Revises: 0004_audit
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_ui"
down_revision: str | None = "0004_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "groeiruimte_app"  # created by 0001_event_store on PostgreSQL


def upgrade() -> None:
    op.create_table(
        "report_narratives",
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ecosystem", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("period", "version", name="pk_report_narratives"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Versions are only ever added: the application may insert and read, never change.
        op.execute(f"GRANT SELECT, INSERT ON report_narratives TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_table("report_narratives")
