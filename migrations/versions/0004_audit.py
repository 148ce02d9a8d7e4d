"""Audit: the append-only access log (logged reads) and the stored half-year reports.

Revision ID: 0004_audit
Revises: 0003_partner_registry
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_audit"
down_revision: str | None = "0003_partner_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "groeiruimte_app"  # created by 0001_event_store on PostgreSQL


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_access_log()
    _create_reports()
    if op.get_bind().dialect.name == "postgresql":
        _make_access_log_append_only_postgresql()
        op.execute(f"GRANT SELECT, INSERT ON access_log, reports TO {APP_ROLE}")
        op.execute(f"GRANT USAGE ON SEQUENCE access_log_id_seq TO {APP_ROLE}")
    else:
        _make_access_log_append_only_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER access_log_append_only_truncate ON access_log")
        op.execute("DROP TRIGGER access_log_append_only_row ON access_log")
        op.execute("DROP FUNCTION access_log_reject_change()")
    else:
        op.execute("DROP TRIGGER access_log_reject_delete")
        op.execute("DROP TRIGGER access_log_reject_update")
    op.drop_table("reports")
    op.drop_index("ix_access_log_lead_id", table_name="access_log")
    op.drop_table("access_log")


def _create_access_log() -> None:
    op.create_table(
        "access_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("sub", sa.String(200), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("lead_id", sa.String(36), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("trace_id", sa.String(64), nullable=False),
        sa.Column("processing_activity", sa.String(64), nullable=False),
    )
    op.create_index("ix_access_log_lead_id", "access_log", ["lead_id"])


def _create_reports() -> None:
    op.create_table(
        "reports",
        sa.Column("period", sa.String(16), primary_key=True),
        sa.Column("cut_off", _utc(), nullable=False),
        sa.Column("known_at", _utc(), nullable=False),
        sa.Column("log_position", sa.BigInteger(), nullable=False),
        sa.Column("generated_at", _utc(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("figures_hash", sa.String(64), nullable=False),
    )


def _make_access_log_append_only_sqlite() -> None:
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER access_log_reject_{operation.lower()} BEFORE {operation} ON access_log "
            "BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END"
        )


def _make_access_log_append_only_postgresql() -> None:
    op.execute(
        """
        CREATE FUNCTION access_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the access log is append-only (% rejected)', TG_OP;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER access_log_append_only_row BEFORE UPDATE OR DELETE ON access_log "
        "FOR EACH ROW EXECUTE FUNCTION access_log_reject_change()"
    )
    op.execute(
        "CREATE TRIGGER access_log_append_only_truncate BEFORE TRUNCATE ON access_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION access_log_reject_change()"
    )
    # ALWAYS: fire also under session_replication_role = replica, which skips ordinary triggers.
    op.execute("ALTER TABLE access_log ENABLE ALWAYS TRIGGER access_log_append_only_row")
    op.execute("ALTER TABLE access_log ENABLE ALWAYS TRIGGER access_log_append_only_truncate")
