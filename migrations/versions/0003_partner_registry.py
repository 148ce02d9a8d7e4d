"""Partner registry (seeded from reference data v1) and the read models brokering needs.

Revision ID: 0003_partner_registry
Revises: 0002_read_models
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from events.reference import ORGANISATIONS

revision: str = "0003_partner_registry"
down_revision: str | None = "0002_read_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "groeiruimte_app"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    partners = op.create_table(
        "partners",
        sa.Column("partner_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("region", sa.String(32), nullable=True),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("webhook_url", sa.String(500), nullable=True),
        sa.Column("webhook_secret", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
    )
    op.bulk_insert(
        partners,
        [
            {
                "partner_id": slug,
                "name": name,
                "kind": kind.value,
                "region": region.value if region else None,
                "emails": [f"contact@{slug}.example"],
                "webhook_url": None,
                "webhook_secret": None,
                "active": True,
                "updated_at": None,
            }
            for slug, (name, kind, region) in ORGANISATIONS.items()
        ],
    )
    op.create_table(
        "demand_summaries",
        sa.Column("demand_id", sa.String(36), primary_key=True),
        sa.Column("lead_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("home_region", sa.String(32), nullable=False),
        sa.Column("articulated_at", _utc(), nullable=False),
    )
    op.create_index("ix_demand_summaries_lead_id", "demand_summaries", ["lead_id"])
    op.create_index("ix_demand_summaries_status", "demand_summaries", ["status"])
    op.create_table(
        "notification_deliveries",
        sa.Column("delivery_id", sa.String(300), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("recipient", sa.String(500), primary_key=True),
        sa.Column("sent_at", _utc(), nullable=False),
    )
    op.add_column("partner_requests", sa.Column("company_name", sa.String(200), nullable=True))
    op.add_column("partner_requests", sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("partner_requests", sa.Column("escalated", sa.Boolean(), nullable=False, server_default=sa.false()))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON partners, demand_summaries, notification_deliveries TO {APP_ROLE}")


def downgrade() -> None:
    with op.batch_alter_table("partner_requests") as batch:
        batch.drop_column("escalated")
        batch.drop_column("reminders_sent")
        batch.drop_column("company_name")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_demand_summaries_status", table_name="demand_summaries")
    op.drop_index("ix_demand_summaries_lead_id", table_name="demand_summaries")
    op.drop_table("demand_summaries")
    op.drop_table("partners")
