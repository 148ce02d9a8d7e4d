"""The FastAPI side of logged reads: a per-request recorder whose write runs alongside the read.

Why this shape: an entry must never be lost silently, so no lead data leaves before its entry is
committed — a background task after the response, or an in-memory queue, would lose entries whenever
the process dies. Concurrent requests' entries share commits (`GroupedWriter`), each request still
waiting for its own. To keep that from adding a full round trip, a route calls `record` as soon as it knows
the caller may read lead data at all (before loading anything): the INSERT starts at once, the route
loads and shapes its data meanwhile, and the route's class (`LoggedReadRoute`) awaits the write just
before the response is sent. If the write fails, the caller gets 503 and no data. So an entry records a
request for a lead's data: one refused afterwards (another organisation's lead, an unknown id) is still
logged — an attempted read is what an auditor wants to see — while roles that may never read lead data
are refused unrecorded.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, HTTPException, Request, Response
from fastapi.routing import APIRoute

from events.store import EventStore
from services.api.deps import current_user, request_container
from services.audit.access_log import (
    AccessEntries,
    GroupedWriter,
    ProcessingActivity,
    activity_of,
    trace_id_from,
)
from services.auth import Principal
from services.container import Container
from services.observability import CORRELATION_ID
from services.persons import PersonVault

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


@dataclass(frozen=True, slots=True)
class LoggedRead:
    """What a logged read route works with, as one dependency: the caller, the container, and the
    recorder of its reads. One node for FastAPI to solve instead of one per part (user, store, read log,
    person vault), on the API's most frequent requests."""

    user: Principal
    container: Container
    reads: ReadLog

    @property
    def store(self) -> EventStore:
        return self.container.store

    @property
    def persons(self) -> PersonVault:
        return PersonVault(self.container.engine)


_READ_LOG = "groeiruimte.read_log"  # the request's ReadLog, in its ASGI scope
NOT_RECORDED = "the read could not be recorded in the access log; nothing was served"


class LoggedReadRoute(APIRoute):
    """A route that may log reads (`LoggedReadDep`): once the endpoint has its answer, and before the
    answer is sent, the request's access-log writes are awaited; if one failed, the caller gets 503 and
    no data. An endpoint that raises still waits for its writes (a failure is logged) before the error
    is answered.

    A dependency with `yield` would do the same; FastAPI enters one through an async context manager on
    an exit stack, about 30 µs more on each of the API's most frequent requests."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            request.scope[_READ_LOG] = None  # a logged read may run here (logged_read checks)
            try:
                response = await handler(request)
            except BaseException:
                await _settled(request)
                raise
            if not await _settled(request):
                raise HTTPException(503, NOT_RECORDED)
            return response

        return handle


async def _settled(request: Request) -> bool:
    log: ReadLog | None = request.scope.get(_READ_LOG)
    return True if log is None else await log.settle()


async def logged_read(request: Request) -> LoggedRead:
    if _READ_LOG not in request.scope:  # a route of another class would send data before its entry
        raise RuntimeError(f"{request.scope.get('route')} logs reads but is not a LoggedReadRoute")
    user = await current_user(request)
    container = request_container(request)
    template = getattr(request.scope.get("route"), "path", None)  # /v1/leads/{lead_id}, not the id
    endpoint = f"{request.method} {template or request.scope['path']}"
    # A caller that sent no trace finds its entry by the answer's X-Correlation-ID.
    log = ReadLog(container.access_log, user, endpoint, trace_id_from(request.headers, CORRELATION_ID.get()))
    request.scope[_READ_LOG] = log
    return LoggedRead(user, container, log)


LoggedReadDep = Annotated[LoggedRead, Depends(logged_read)]
