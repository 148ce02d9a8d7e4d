"""The FastAPI side of logged reads: a per-request recorder whose write runs alongside the read.

Why this shape: an entry must never be lost silently, so no lead data leaves before its entry is
committed — a background task after the response, or an in-memory queue, would lose entries whenever
the process dies. Concurrent requests' entries share commits (`GroupedWriter`), each request still
waiting for its own. To keep that from adding a full round trip, a route calls `record` as soon as it knows
the caller may read lead data at all (before loading anything): the INSERT starts at once, the route
loads and shapes its data meanwhile, and the recorder awaits the write just before the response is sent.
If the write fails, the caller gets 503 and no data. So an entry records a request for a lead's data:
one refused afterwards (another organisation's lead, an unknown id) is still logged — an attempted read
is what an auditor wants to see — while roles that may never read lead data are refused unrecorded.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Request

from services.api.deps import CurrentUser, request_container
from services.audit.access_log import (
    AccessEntries,
    GroupedWriter,
    ProcessingActivity,
    activity_of,
    trace_id_from,
)
from services.auth import Principal
from services.observability import CORRELATION_ID

logger = logging.getLogger(__name__)


class ReadLog:
    """This request's reads of lead-level data, written to the access log."""

    def __init__(self, writer: GroupedWriter, user: Principal, endpoint: str, trace_id: str) -> None:
        self._writer = writer
        self._user = user
        self._endpoint = endpoint
        self.trace_id = trace_id
        self._writes: list[asyncio.Task[None]] = []

    def record(self, *lead_ids: UUID, activity: ProcessingActivity | None = None) -> None:
        """Start writing one entry per lead; call it before loading the data so the two overlap."""
        if not lead_ids:
            return
        entries = AccessEntries(
            at=datetime.now(UTC),
            sub=self._user.sub,
            org=self._user.org,
            role=self._user.role.value,
            lead_ids=[str(lead_id) for lead_id in lead_ids],
            endpoint=self._endpoint,
            trace_id=self.trace_id,
            processing_activity=activity or activity_of(self._user),
        )
        self._writes.append(asyncio.create_task(self._writer.write(entries)))

    async def settle(self) -> bool:
        """Wait for every write; False (and logged) when one failed."""
        results = await asyncio.gather(*self._writes, return_exceptions=True)
        self._writes.clear()
        failures = [result for result in results if isinstance(result, BaseException)]
        for failure in failures:
            logger.error("access log write failed (trace %s)", self.trace_id, exc_info=failure)
        return not failures


async def read_log(request: Request, user: CurrentUser) -> AsyncIterator[ReadLog]:
    route = request.scope.get("route")
    endpoint = f"{request.method} {getattr(route, 'path', request.url.path)}"
    writer = request_container(request).access_log
    # A caller that sent no trace finds its entry by the answer's X-Correlation-ID.
    log = ReadLog(writer, user, endpoint, trace_id_from(request.headers, CORRELATION_ID.get()))
    try:
        yield log
    except BaseException:
        await log.settle()
        raise
    if not await log.settle():
        raise HTTPException(503, "the read could not be recorded in the access log; nothing was served")


# scope="function": the exit runs before the response is sent, so a failed write can still refuse it.
ReadLogDep = Annotated[ReadLog, Depends(read_log, scope="function")]
