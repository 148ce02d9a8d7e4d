"""`/livez`, `/readyz` and `/metrics` of the worker and the projector (the API serves its own, at
services/api/routes/health.py): a tiny HTTP server in the process's event loop, one GET per connection.

Alive: the event loop answers (and the worker still runs). Ready: the worker is connected to Temporal and
polls its task queue; the projector reaches the database and knows its checkpoint lag.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from services.observability import update_projection_lag

Checks = dict[str, Any]
Probe = Callable[[], Awaitable[Checks]]
CHECK_TIMEOUT_SECONDS = 3.0
log = logging.getLogger("groeiruimte.health")


@dataclass(frozen=True)
class Probes:
    """Each probe returns its checks; the answer is 200 when every boolean among them is true, else 503."""

    live: Probe
    ready: Probe
    # Called before /metrics is rendered, e.g. to refresh gauges read from the database.
    refresh_metrics: Callable[[], Awaitable[object]] | None = None


@contextlib.asynccontextmanager
async def health_server(host: str, port: int, probes: Probes) -> AsyncIterator[None]:
    """Serve the probes on host:port while the block runs; port 0 serves nothing."""
    if not port:
        yield
        return
    server = await asyncio.start_server(lambda r, w: _answer(r, w, probes), host, port)
    log.info("health endpoints on %s:%s (/livez, /readyz, /metrics)", host, port)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, probes: Probes) -> None:
    try:
        status, content_type, body = await _response(reader, probes)
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError) as error:
        log.debug("a health probe hung up before its answer: %r", error)  # nobody left to answer
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader, probes: Probes) -> tuple[str, str, bytes]:
    """The answer to one request; a request too slow or too large to read gets its HTTP error."""
    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return "408 Request Timeout", "text/plain", b"request not received in time\n"
    except asyncio.LimitOverrunError:
        return "431 Request Header Fields Too Large", "text/plain", b"request too large\n"
    method, path, *_ = [*request.split(b" ", 2), b"", b""]
    return await _route(method.decode(errors="replace"), path.decode(errors="replace").split("?")[0], probes)


async def _route(method: str, path: str, probes: Probes) -> tuple[str, str, bytes]:
    if method != "GET":
        return "405 Method Not Allowed", "text/plain", b"GET only\n"
    if path == "/metrics":
        if probes.refresh_metrics is not None:
            await _checked(probes.refresh_metrics)
        return "200 OK", CONTENT_TYPE_LATEST, generate_latest()
    if path not in ("/livez", "/readyz"):
        return "404 Not Found", "text/plain", b"/livez, /readyz or /metrics\n"
    checks = await _checked(probes.live if path == "/livez" else probes.ready)
    ok = all(value for value in checks.values() if isinstance(value, bool))
    verdict = ("ok" if ok else "not live") if path == "/livez" else ("ready" if ok else "not ready")
    body = json.dumps({"status": verdict, "checks": checks}).encode()
    return ("200 OK" if ok else "503 Service Unavailable"), "application/json", body


async def _checked(probe: Callable[[], Awaitable[Any]]) -> Any:
    """The probe's answer; a failure or a probe slower than the timeout is a failed check."""
    try:
        return await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except Exception as error:  # any other failure, or no answer in time, means not ready too
        log.warning("health check failed: %s", repr(error))
        return {"answered": False}


def worker_probes(client: Client, worker: Worker) -> Probes:
    """Alive while the worker runs; ready while Temporal answers and lists this worker among the pollers
    of its task queue."""

    async def live() -> Checks:
        return {"worker_running": worker.is_running}

    async def ready() -> Checks:
        checks: Checks = {"worker_running": worker.is_running, "temporal": False, "polling": False}
        request = DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=worker.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
        try:
            checks["temporal"] = await client.service_client.check_health()
            described = await client.workflow_service.describe_task_queue(request)
        except (RPCError, RuntimeError) as error:  # Temporal away: the SDK raises either
            log.warning("worker not ready: Temporal does not answer (%s)", error)
            return checks
        checks["polling"] = any(poller.identity == client.identity for poller in described.pollers)
        return checks

    return Probes(live=live, ready=ready)


def projector_probes(engine: AsyncEngine) -> Probes:
    """Alive while the event loop answers; ready while the database answers with the checkpoint lag."""

    async def live() -> Checks:
        return {"event_loop": True}

    async def ready() -> Checks:
        try:
            lag_events, lag_seconds = await update_projection_lag(engine)
        except (OSError, SQLAlchemyError) as error:
            log.warning("projector not ready: the database does not answer (%s)", error)
            return {"database": False}
        return {"database": True, "lag_events": lag_events, "lag_seconds": lag_seconds}

    return Probes(live=live, ready=ready, refresh_metrics=lambda: update_projection_lag(engine))
