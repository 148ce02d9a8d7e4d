"""Read-model tables, on the event log's `metadata`; created by migration 0002_read_models.

Every row here is derived from the events and can be rebuilt from them (`Projector.rebuild`).
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
)

from services.persistence.tables import metadata
from services.persistence.types import JsonDocument, UtcDateTime

CHECKPOINT_NAME = "lead_read_models"

# One row per lead: columns to filter and count on, plus the full state as JSON.
lead_summaries = Table(
    "lead_summaries",
    metadata,
    Column("lead_id", String(36), primary_key=True),
    Column("code_name", String(200), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("owner_org", String(64), nullable=False),
    Column("home_region", String(32), nullable=False),
    Column("province", String(64), nullable=True),
    Column("municipality", String(200), nullable=True),
    Column("company_name", String(200), nullable=False),
    Column("company_stage", String(32), nullable=False),
    Column("domains", JSON(), nullable=False),
    Column("needed_by", Date(), nullable=True),
    Column("signalled_at", UtcDateTime(), nullable=False),
    Column("articulation_completed_at", UtcDateTime(), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("outcome_code", String(32), nullable=True),
    Column("outcome_region", String(32), nullable=True),
    Column("outcome_investment_eur", Float(), nullable=True),
    Column("outcome_jobs", Integer(), nullable=True),
    Column("confirmed_investment_eur", Float(), nullable=True),
    # Business time of the latest InvestmentConfirmed: keeps `confirmed` reproducible as of a date.
    Column("investment_confirmed_at", UtcDateTime(), nullable=True),
    Column("became_scale_up_at", UtcDateTime(), nullable=True),
    Column("demand_count", Integer(), nullable=False),
    Column("open_partner_requests", Integer(), nullable=False),
    Column("last_event_at", UtcDateTime(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("position", BigInteger(), nullable=False),
    Column("state", JsonDocument(), nullable=False),
    # Which shape of state document `state` is (rows.state_schema; migration 0012_state_schema).
    Column("state_schema", String(32), nullable=True),
    # The latest business time among the lead's events (migration 0010_lead_snapshots).
    Column("occurred_until", UtcDateTime(), nullable=True),
    # The list's filters, each in the list's order (migration 0008_read_indexes).
    Index("ix_lead_summaries_signalled", text("signalled_at DESC"), "lead_id"),
    Index("ix_lead_summaries_stage_signalled", "stage", text("signalled_at DESC"), "lead_id"),
    Index("ix_lead_summaries_region_signalled", "home_region", text("signalled_at DESC"), "lead_id"),
    Index("ix_lead_summaries_owner_signalled", "owner_org", text("signalled_at DESC"), "lead_id"),
    # Common pairs of filters (migration 0009_list_filter_pairs).
    Index(
        "ix_lead_summaries_region_stage_signalled",
        "home_region",
        "stage",
        text("signalled_at DESC"),
        "lead_id",
    ),
    Index(
        "ix_lead_summaries_owner_stage_signalled", "owner_org", "stage", text("signalled_at DESC"), "lead_id"
    ),
)
# PostgreSQL only (SQLite has no INCLUDE): the impact figures as an index-only scan.
Index(
    "ix_lead_summaries_impact",
    lead_summaries.c.signalled_at,
    postgresql_include=[
        "articulation_completed_at",
        "outcome_code",
        "decided_at",
        "became_scale_up_at",
        "outcome_investment_eur",
        "confirmed_investment_eur",
        "investment_confirmed_at",
    ],
).ddl_if(dialect="postgresql")

lead_domains = Table(
    "lead_domains",
    metadata,
    Column("lead_id", String(36), primary_key=True),
    Column("domain", String(64), primary_key=True),
    Index("ix_lead_domains_domain_lead", "domain", "lead_id"),
)

partner_requests = Table(
    "partner_requests",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("partner_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("question", Text(), nullable=False),
    Column("due_date", Date(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=False),
    Column("answered_at", UtcDateTime(), nullable=True),
    Column("answer", String(16), nullable=True),
    Column("demand_kinds", JSON(), nullable=False),
    Column("code_name", String(200), nullable=False),
    Column("home_region", String(32), nullable=False),
    Column("company_name", String(200), nullable=True),  # only when disclosed to this partner
    Column("reminders_sent", Integer(), nullable=False, server_default="0"),
    Column("escalated", Boolean(), nullable=False, server_default=false()),
    Index("ix_partner_requests_partner_id", "partner_id"),
)

# One row per demand (ruimtevraag): unresolved ones are the programme's bottleneck signals.
demand_summaries = Table(
    "demand_summaries",
    metadata,
    Column("demand_id", String(36), primary_key=True),
    Column("lead_id", String(36), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("home_region", String(32), nullable=False),
    Column("articulated_at", UtcDateTime(), nullable=False),
    Index("ix_demand_summaries_lead_id", "lead_id"),
    Index("ix_demand_summaries_status", "status"),
)

# The lead's state after every SNAPSHOT_EVERY-th event (migration 0010_lead_snapshots). A snapshot holds
# for a replay as of `as_of` and as known at `known_at` when all its events had occurred by `as_of`
# (occurred_until) and were recorded by `known_at` (recorded_at, that of its last event).
lead_snapshots = Table(
    "lead_snapshots",
    metadata,
    Column("lead_id", String(36), primary_key=True),
    Column("stream_version", Integer(), primary_key=True),
    Column("position", BigInteger(), nullable=False),
    Column("occurred_until", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("state", JsonDocument(), nullable=False),
)
# Long cases only: most leads have fewer events, and folding a few hundred costs a few milliseconds.
SNAPSHOT_EVERY = 250

# One row per projector: the log position up to which its read models are current.
projection_checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger(), nullable=False),
)

READ_MODEL_TABLES = (lead_summaries, lead_domains, partner_requests, demand_summaries, lead_snapshots)
