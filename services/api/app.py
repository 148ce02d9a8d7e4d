"""The FastAPI application: routes, problem handlers and the edge (services/api/edge.py, cors.py)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from services.api.cors import CorsByPath
from services.api.docs import install_docs
from services.api.edge import API_VERSION, EdgeMiddleware
from services.api.problems import PROBLEM_RESPONSES, install_problem_handlers
from services.api.query_parameters import known_query_parameters_only
from services.api.routes import (
    audit,
    brokering_monitoring,
    codec,
    health,
    lead_commands,
    leads,
    monitoring,
    partner_requests,
    partners,
    persons,
)
from services.container import Container, build_container
from services.oidc import verifier_for
from services.persistence.migrate import require_current_schema
from services.persons import PersonVault
from services.projections.rows import state_schema
from services.reports import api as reports_api
from services.settings import Settings
from services.temporal import payload_codec
from services.tracing import instrument_app
from services.web import ui

__all__ = ["API_VERSION", "MAX_BODY_BYTES", "create_app"]
MAX_BODY_BYTES = 1_048_576  # the default of GROEIRUIMTE_MAX_BODY_BYTES


def create_app(settings: Settings, container: Container | None = None) -> FastAPI:
    """The API; builds its own container (database, Temporal client) unless one is given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.container = container or await build_container(settings)
        if container is None:  # a key whose erasure was recorded must not outlive a crash
            await require_current_schema(app.state.container.engine)
            await PersonVault(app.state.container.engine).shred_recorded_erasures()
        state_schema()  # built once per process (~11 ms): not on the first single-lead read
        yield
        if container is None:
            await app.state.container.close()

    app = FastAPI(
        title="groeiruimte",
        version=API_VERSION,
        description="Event-sourced workflow service for the Dutch deeptech scale-up programme.",
        lifespan=lifespan,
        dependencies=[Depends(known_query_parameters_only)],
        docs_url=None,  # services/api/docs.py serves them from our own origin
        redoc_url=None,
    )
    if container is not None:
        app.state.container = container
    app.state.verifier = verifier_for(settings)
    app.state.payload_codec = payload_codec(settings)
    install_problem_handlers(app)
    app.add_middleware(EdgeMiddleware, settings=settings)
    app.add_middleware(CorsByPath, settings=settings)
    install_docs(app)
    for module in (
        leads,
        lead_commands,
        partner_requests,
        monitoring,
        audit,
        health,
        partners,
        persons,
        brokering_monitoring,
        codec,
        reports_api,
        ui,
    ):
        app.include_router(module.router, responses=PROBLEM_RESPONSES)
    app.mount(ui.STATIC_PATH, ui.static_files(), name="ui-static")
    instrument_app(app, settings)
    return app
