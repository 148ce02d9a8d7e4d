"""The event log's tables (DESIGN §4). Read-model tables live in services/projections/tables.py."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.types import Uuid

from services.persistence.types import UtcDateTime

metadata = MetaData()

# Plain JSON (not JSONB) on PostgreSQL: the stored text is what was hashed.
events = Table(
    "events",
    metadata,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("event_id", Uuid(), nullable=False, unique=True),
    Column("stream_id", String(64), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("data", JSON(), nullable=False),
    Column("metadata", JSON(), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    Index("ix_events_type", "type"),
)

# One row (id = 1): the head of the log. Appends lock it, which serialises them and keeps positions
# gap-free and in commit order.
log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_position", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("last_recorded_at", UtcDateTime(), nullable=True),
)

# The partner registry: organisations the taskforce asks, their contacts and webhook subscription.
# Managed by `admin` over the API; seeded from events.reference by migration 0003_partner_registry.
partners = Table(
    "partners",
    metadata,
    Column("partner_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("region", String(32), nullable=True),
    Column("emails", JSON(), nullable=False),
    Column("webhook_url", String(500), nullable=True),
    Column("webhook_secret", String(200), nullable=True),
    Column("active", Boolean(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
)

# Each notification sent, per channel and recipient: a delivery retried after a crash skips what went out.
notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("delivery_id", String(300), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("recipient", String(500), primary_key=True),
    Column("sent_at", UtcDateTime(), nullable=False),
)

# One key per contact person (migration 0007_person_keys): their personal data in the log is sealed
# under it. Erasure sets `key` to NULL and `erased_at`; the row stays as the record that it happened.
person_keys = Table(
    "person_keys",
    metadata,
    Column("person_id", Uuid(), primary_key=True),
    Column("lead_id", Uuid(), nullable=False, index=True),
    Column("key", LargeBinary(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("erased_at", UtcDateTime(), nullable=True),
)
