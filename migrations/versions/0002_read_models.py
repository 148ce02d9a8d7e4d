"""Read models: lead summaries, their domains, partner requests and the projector's checkpoint.

Revision ID: 0002_read_models
Revises: 0001_event_store
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_read_models"
down_revision: str | None = "0001_event_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "groeiruimte_app"  # created by 0001_event_store on PostgreSQL
READ_MODEL_TABLES = "lead_summaries, lead_domains, partner_requests, projection_checkpoints"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lead_summaries",
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Column("code_name", sa.String(200), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("owner_org", sa.String(64), nullable=False),
        sa.Column("home_region", sa.String(32), nullable=False),
        sa.Column("province", sa.String(64), nullable=True),
        sa.Column("municipality", sa.String(200), nullable=True),
        sa.Column("company_name", sa.String(200), nullable=False),
        sa.Column("company_stage", sa.String(32), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.Column("signalled_at", _utc(), nullable=False),
        sa.Column("articulation_completed_at", _utc(), nullable=True),
        sa.Column("decided_at", _utc(), nullable=True),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("outcome_code", sa.String(32), nullable=True),
        sa.Column("outcome_region", sa.String(32), nullable=True),
        sa.Column("outcome_investment_eur", sa.Float(), nullable=True),
        sa.Column("outcome_jobs", sa.Integer(), nullable=True),
        sa.Column("confirmed_investment_eur", sa.Float(), nullable=True),
        sa.Column("investment_confirmed_at", _utc(), nullable=True),
        sa.Column("became_scale_up_at", _utc(), nullable=True),
        sa.Column("demand_count", sa.Integer(), nullable=False),
        sa.Column("open_partner_requests", sa.Integer(), nullable=False),
        sa.Column("last_event_at", _utc(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
    )
    op.create_index("ix_lead_summaries_stage", "lead_summaries", ["stage"])
    op.create_index("ix_lead_summaries_home_region", "lead_summaries", ["home_region"])
    op.create_index("ix_lead_summaries_owner_org", "lead_summaries", ["owner_org"])

    op.create_table(
        "lead_domains",
        sa.Column("lead_id", sa.String(36), primary_key=True),
        sa.Column("domain", sa.String(64), primary_key=True),
    )
    op.create_index("ix_lead_domains_domain", "lead_domains", ["domain"])

    op.create_table(
        "partner_requests",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("lead_id", sa.String(36), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=False),
        sa.Column("answered_at", _utc(), nullable=True),
        sa.Column("answer", sa.String(16), nullable=True),
        sa.Column("demand_kinds", sa.JSON(), nullable=False),
        sa.Column("code_name", sa.String(200), nullable=False),
        sa.Column("home_region", sa.String(32), nullable=False),
    )
    op.create_index("ix_partner_requests_partner_id", "partner_requests", ["partner_id"])

    checkpoints = op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
    )
    assert checkpoints is not None
    op.bulk_insert(checkpoints, [{"name": "lead_read_models", "position": 0}])
    if op.get_bind().dialect.name == "postgresql":
        # Read models are derived data: the projector rewrites them, unlike the events.
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {READ_MODEL_TABLES} TO {APP_ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE ALL ON {READ_MODEL_TABLES} FROM {APP_ROLE}")
    op.drop_table("projection_checkpoints")
    op.drop_index("ix_partner_requests_partner_id", table_name="partner_requests")
    op.drop_table("partner_requests")
    op.drop_index("ix_lead_domains_domain", table_name="lead_domains")
    op.drop_table("lead_domains")
    op.drop_index("ix_lead_summaries_owner_org", table_name="lead_summaries")
    op.drop_index("ix_lead_summaries_home_region", table_name="lead_summaries")
    op.drop_index("ix_lead_summaries_stage", table_name="lead_summaries")
    op.drop_table("lead_summaries")
