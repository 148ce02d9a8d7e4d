"""Snapshots of each lead's state every 250 events, so replaying a long case as of a moment starts from
the nearest one instead of the first event (issue 7: a 1,000-event case replayed in under 20 ms); and
the latest business time a lead's events carry, which tells whether a snapshot holds as of a moment.

Existing leads get snapshots at the next `groeiruimte projections rebuild`; until then their replays
fold from the first event, as before.

Revision ID: 0010_lead_snapshots
Revises: 0009_list_filter_pairs
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_lead_snapshots"
down_revision: str | None = "0009_list_filter_pairs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "groeiruimte_app"  # created by 0001_event_store on PostgreSQL


def upgrade() -> None:
    op.create_table(
        "lead_snapshots",
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Column("stream_version", sa.Integer(), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("occurred_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
    )
    op.add_column("lead_summaries", sa.Column("occurred_until", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE lead_summaries SET occurred_until = (SELECT max(occurred_at) FROM events"
        " WHERE events.stream_id = 'lead-' || lead_summaries.lead_id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON lead_snapshots TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_column("lead_summaries", "occurred_until")
    op.drop_table("lead_snapshots")
