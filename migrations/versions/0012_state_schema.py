"""Beside each lead's state in the read model, a fingerprint of the shape of its JSON document (the
state model's serialisation schema, `services/projections/rows.py: state_schema`).

A read of one lead answers from the stored document without validating it into the state model when the
document was written by code with the same state shape, which is what the fingerprint says; a row written
by code of another shape (every row before this migration: NULL) is validated as before, and gets the new
fingerprint when the projector next writes it or at the next `groeiruimte projections rebuild`.

Revision ID: 0012_state_schema
Revises: 0011_state_compression
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_state_schema"
down_revision: str | None = "0011_state_compression"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("lead_summaries", sa.Column("state_schema", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("lead_summaries", "state_schema")
