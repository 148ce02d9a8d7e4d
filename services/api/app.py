"""The FastAPI application: routes, problem handlers and the edge middleware."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from services.api.problems import PayloadTooLargeError, install_problem_handlers, problem
from services.api.routes import (
    audit,
    brokering_monitoring,
    health,
    lead_commands,
    leads,
    monitoring,
    partner_requests,
    partners,
)
from services.container import Container, build_container
from services.observability import CORRELATION_ID, correlation_id_from
from services.settings import Settings

API_VERSION = "1.0.0"
MAX_BODY_BYTES = 1_048_576


def create_app(settings: Settings, container: Container | None = None) -> FastAPI:
    """The API; builds its own container (database, Temporal client) unless one is given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.container = container or await build_container(settings)
        yield
        if container is None:
            await app.state.container.close()

    app = FastAPI(
        title="groeiruimte",
        version=API_VERSION,
        description="Event-sourced workflow service for the Dutch deeptech scale-up programme.",
        lifespan=lifespan,
    )
    if container is not None:
        app.state.container = container
    install_problem_handlers(app)
    app.middleware("http")(_edge)
    for module in (
        leads,
        lead_commands,
        partner_requests,
        monitoring,
        audit,
        health,
        partners,
        brokering_monitoring,
    ):
        app.include_router(module.router)
    return app


async def _edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """API-Version on every response; bodies over the limit refused before they are read."""
    correlation_id = correlation_id_from(dict(request.headers))
    CORRELATION_ID.set(correlation_id)
    length = request.headers.get("content-length", "0")
    response: Response
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        error = PayloadTooLargeError(f"the body may be at most {MAX_BODY_BYTES} bytes")
        response = problem(request, 413, "payload-too-large", "Request body too large", str(error))
    else:
        response = await call_next(request)
    response.headers["API-Version"] = API_VERSION
    response.headers["X-Correlation-ID"] = correlation_id
    return response
