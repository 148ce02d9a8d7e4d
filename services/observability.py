"""Structured JSON logs with correlation ids, and the API's Prometheus metrics."""

import logging
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

import opentelemetry.trace
from prometheus_client import Counter, Gauge
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.log_masking import MaskingFormatter
from services.persistence.tables import events, log_head
from services.projections.tables import CHECKPOINT_NAME, projection_checkpoints

CORRELATION_ID: ContextVar[str | None] = ContextVar("correlation_id", default=None)

COMMANDS = Counter("groeiruimte_commands_total", "Commands sent to lead workflows", ["command", "outcome"])
PROJECTION_LAG_EVENTS = Gauge("groeiruimte_projection_lag_events", "Events not yet in the read models")
PROJECTION_LAG_SECONDS = Gauge(
    "groeiruimte_projection_lag_seconds", "Age of the oldest event not yet in the read models"
)


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = CORRELATION_ID.get()
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """One JSON object per line on stderr, each with the correlation id of the work it belongs to, and
    nothing secret in it (services/log_masking.py)."""
    handler = logging.StreamHandler(sys.stderr)
    json_lines = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
    handler.setFormatter(MaskingFormatter(json_lines))
    handler.addFilter(_CorrelationFilter())
    logging.basicConfig(level=level, handlers=[handler], force=True)


def correlation_id_from(headers: dict[str, str]) -> str:
    """X-Correlation-ID, else the trace id of the current span (tracing on), else the trace id of a W3C
    traceparent, else a new id: with tracing on, logs, event metadata and the trace share one id."""
    if given := headers.get("x-correlation-id"):
        return given[:128]
    span = opentelemetry.trace.get_current_span().get_span_context()
    if span.is_valid:
        return opentelemetry.trace.format_trace_id(span.trace_id)
    parts = headers.get("traceparent", "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return parts[1]
    return uuid.uuid4().hex


async def update_projection_lag(engine: AsyncEngine) -> tuple[int, float]:
    """Set the lag gauges from the log head and the projector's checkpoint; returns the lag in events
    and in seconds."""
    checkpoint_query = select(projection_checkpoints.c.position).where(
        projection_checkpoints.c.name == CHECKPOINT_NAME
    )
    async with engine.connect() as connection:
        head = (await connection.execute(select(log_head.c.last_position))).scalar_one()
        checkpoint = (await connection.execute(checkpoint_query)).scalar_one()
        oldest = (
            await connection.execute(select(events.c.recorded_at).where(events.c.position == checkpoint + 1))
        ).scalar_one_or_none()
    lag_events = int(head - checkpoint)
    lag_seconds = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    PROJECTION_LAG_EVENTS.set(lag_events)
    PROJECTION_LAG_SECONDS.set(lag_seconds)
    return lag_events, lag_seconds
