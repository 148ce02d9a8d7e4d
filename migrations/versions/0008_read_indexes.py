"""Read indexes: the lead list's filters in its own order (newest signalled first), and the impact figures.

Each list filter gets an index that leads with it and continues in the list's order, so a page of 20 is
read from the index instead of sorting every matching lead; they replace the single-column indexes on
stage, home region and owner. On PostgreSQL the impact figures become an index-only scan (INCLUDE).

Revision ID: 0008_read_indexes
Revises: 0007_person_keys
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_read_indexes"
down_revision: str | None = "0007_person_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED_BY = {  # index name: the filter column it leads with (None: the unfiltered list)
    "ix_lead_summaries_signalled": None,
    "ix_lead_summaries_stage_signalled": "stage",
    "ix_lead_summaries_region_signalled": "home_region",
    "ix_lead_summaries_owner_signalled": "owner_org",
}
REPLACED = {
    "ix_lead_summaries_stage": "stage",
    "ix_lead_summaries_home_region": "home_region",
    "ix_lead_summaries_owner_org": "owner_org",
}
IMPACT_COLUMNS = [
    "articulation_completed_at",
    "outcome_code",
    "decided_at",
    "became_scale_up_at",
    "outcome_investment_eur",
    "confirmed_investment_eur",
    "investment_confirmed_at",
]


def upgrade() -> None:
    for name, column in LISTED_BY.items():
        leading = [] if column is None else [column]
        op.create_index(name, "lead_summaries", [*leading, sa.text("signalled_at DESC"), "lead_id"])
    for name in REPLACED:
        op.drop_index(name, table_name="lead_summaries")
    if op.get_bind().dialect.name == "postgresql":
        # SQLite has no INCLUDE; there the signalled_at index above serves the impact query.
        op.create_index(
            "ix_lead_summaries_impact", "lead_summaries", ["signalled_at"], postgresql_include=IMPACT_COLUMNS
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_lead_summaries_impact", table_name="lead_summaries")
    for name, column in REPLACED.items():
        op.create_index(name, "lead_summaries", [column])
    for name in LISTED_BY:
        op.drop_index(name, table_name="lead_summaries")
