"""Liveness, readiness and Prometheus metrics."""

import contextlib
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services.api.deps import ContainerDep
from services.observability import update_projection_lag

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(container: ContainerDep) -> JSONResponse:
    """Ready when the database and Temporal answer."""
    checks: dict[str, Any] = {
        "database": await _database_ok(container),
        "temporal": await _temporal_ok(container),
    }
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
    )


async def _database_ok(container: ContainerDep) -> bool:
    try:
        async with container.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means not ready; the reason is not the caller's business
        return False
    return True


async def _temporal_ok(container: ContainerDep) -> bool:
    if container.temporal is None:
        return False
    try:
        return await container.temporal.service_client.check_health()
    except Exception:  # as above
        return False


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus"}},
)
async def metrics(container: ContainerDep) -> Response:
    """Prometheus metrics of this API process, with the projection lag read from the database."""
    with contextlib.suppress(SQLAlchemyError):  # a database outage shows in /readyz, not here
        await update_projection_lag(container.engine)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
