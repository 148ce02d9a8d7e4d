"""Raw reads of the hash chain: the log head and the rows between two positions, as stored."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.hashing import GENESIS_HASH
from services.persistence.tables import events, log_head

_BATCH = 1000


class LogHead(BaseModel):
    """The last appended event: its position, its hash and when it was recorded."""

    model_config = ConfigDict(frozen=True)

    position: int
    hash: str
    recorded_at: datetime | None


async def read_log_head(engine: AsyncEngine) -> LogHead:
    """The committed head; every position up to it is committed too (appends are serialised)."""
    query = select(log_head.c.last_position, log_head.c.last_hash, log_head.c.last_recorded_at)
    async with engine.connect() as connection:
        row = (await connection.execute(query.where(log_head.c.id == 1))).one_or_none()
    if row is None:
        return LogHead(position=0, hash=GENESIS_HASH, recorded_at=None)
    return LogHead(position=row[0], hash=row[1], recorded_at=row[2])


async def stream_rows(engine: AsyncEngine, stream_id: str) -> list[dict[str, Any]]:
    """A stream's rows exactly as stored (raw data and metadata: what was hashed), in position order."""
    query = select(events).where(events.c.stream_id == stream_id).order_by(events.c.position)
    async with engine.connect() as connection:
        return [row._asdict() for row in (await connection.execute(query)).all()]


async def chain_links(engine: AsyncEngine, first: int, last: int) -> AsyncIterator[dict[str, Any]]:
    """(position, stream_id, prev_hash, hash) of every stored row from `first` to `last`, in order."""
    columns = (events.c.position, events.c.stream_id, events.c.prev_hash, events.c.hash)
    after = first - 1
    while True:
        query = (
            select(*columns)
            .where(events.c.position > after, events.c.position <= last)
            .order_by(events.c.position)
            .limit(_BATCH)
        )
        async with engine.connect() as connection:
            rows = [row._asdict() for row in (await connection.execute(query)).all()]
        for row in rows:
            yield row
        if len(rows) < _BATCH:
            return
        after = rows[-1]["position"]
