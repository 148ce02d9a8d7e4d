"""The audit tables: the append-only access log and the stored half-year reports (migration 0004_audit)."""

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table

from services.persistence.tables import metadata
from services.persistence.types import UtcDateTime

# Logged reads ("Logboek dataverwerkingen"): one row per read of a lead's data. Triggers reject UPDATE
# and DELETE (and TRUNCATE on PostgreSQL); the application role may only INSERT and SELECT.
access_log = Table(
    "access_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("sub", String(200), nullable=False),
    Column("org", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("lead_id", String(36), nullable=False),
    Column("endpoint", String(200), nullable=False),
    Column("trace_id", String(64), nullable=False),
    Column("processing_activity", String(64), nullable=False),
    Index("ix_access_log_lead_id", "lead_id"),
)

# One row per generated half-year report: the figures as reported and the SHA-256 of their canonical JSON.
# `known_at` and `log_position` pin what the log held when they were computed, so they can be recomputed.
reports = Table(
    "reports",
    metadata,
    Column("period", String(16), primary_key=True),
    Column("cut_off", UtcDateTime(), nullable=False),
    Column("known_at", UtcDateTime(), nullable=False),
    Column("log_position", BigInteger(), nullable=False),
    Column("generated_at", UtcDateTime(), nullable=False),
    Column("figures", JSON(), nullable=False),
    Column("figures_hash", String(64), nullable=False),
)
