"""GDPR erasure: one encryption key per contact person, deleted to erase the person.

Contact persons' names, e-mail addresses and phone numbers are stored in the event log only as
AES-GCM ciphertext under a key of their own. The keys live here, outside the append-only log;
erasing a person deletes the key (crypto-shredding), so the log and its hash chain stay intact.

Revision ID: 0007_person_keys
Revises: 0006_ui
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_person_keys"
down_revision: str | None = "0006_ui"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "groeiruimte_app"  # created by 0001_event_store on PostgreSQL


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("person_id", sa.Uuid(), primary_key=True),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_person_keys_lead_id", "person_keys", ["lead_id"])
    if op.get_bind().dialect.name == "postgresql":
        # Erasing overwrites the key with NULL; rows themselves stay as the record of the erasure.
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON person_keys TO {APP_ROLE}")


def downgrade() -> None:
    op.drop_index("ix_person_keys_lead_id", table_name="person_keys")
    op.drop_table("person_keys")
