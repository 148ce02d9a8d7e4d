"""The event log: events, log_head, immutability triggers and the application role (DESIGN §4).

Revision ID: 0001_event_store
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_event_store"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
APP_ROLE = "groeiruimte_app"


def upgrade() -> None:
    _create_events()
    _create_log_head()
    if op.get_bind().dialect.name == "postgresql":
        _make_events_immutable_postgresql()
        _grant_application_role()
    else:
        _make_events_immutable_sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")
        op.execute("DROP TRIGGER events_immutable_truncate ON events")
        op.execute("DROP TRIGGER events_immutable_row ON events")
        op.execute("DROP FUNCTION events_reject_change()")
    else:
        op.execute("DROP TRIGGER events_reject_delete")
        op.execute("DROP TRIGGER events_reject_update")
    op.drop_table("log_head")
    op.drop_index("ix_events_type", table_name="events")
    op.drop_table("events")


def _create_events() -> None:
    # Types spelled out here, not imported from the app: a revision must not change when the app does.
    op.create_table(
        "events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("stream_id", sa.String(64), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        # Also the index for loading a stream in order.
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    )
    op.create_index("ix_events_type", "events", ["type"])


def _create_log_head() -> None:
    log_head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("last_recorded_at", sa.DateTime(timezone=True), nullable=True),
    )
    assert log_head is not None
    op.bulk_insert(
        log_head, [{"id": 1, "last_position": 0, "last_hash": GENESIS_HASH, "last_recorded_at": None}]
    )


def _make_events_immutable_sqlite() -> None:
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER events_reject_{operation.lower()} BEFORE {operation} ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are immutable'); END"
        )


def _make_events_immutable_postgresql() -> None:
    op.execute(
        """
        CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are immutable (% rejected)', TG_OP;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_immutable_row BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_reject_change()"
    )
    op.execute(
        "CREATE TRIGGER events_immutable_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change()"
    )
    # ALWAYS: fire also under session_replication_role = replica, which skips ordinary triggers.
    op.execute("ALTER TABLE events ENABLE ALWAYS TRIGGER events_immutable_row")
    op.execute("ALTER TABLE events ENABLE ALWAYS TRIGGER events_immutable_truncate")


def _grant_application_role() -> None:
    # Roles belong to the cluster, not the database: create once, tolerate a concurrent creator.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT ON events TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, UPDATE ON log_head TO {APP_ROLE}")
