"""RFC 9457 problem responses: one table maps every exception to its HTTP answer."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from events.errors import ConcurrencyError, InvalidCommandError, LeadNotFoundError, StageConflictError
from services.access import ForbiddenError
from services.auth import AuthenticationError
from services.lead_commands import CommandTimeoutError, WorkflowServiceUnavailableError

PROBLEM_JSON = "application/problem+json"


class NotFoundError(Exception):
    """An unknown resource other than a lead."""


class PayloadTooLargeError(Exception):
    """The request body is over the configured limit."""


# exception class -> (status, slug, title)
PROBLEMS: dict[type[Exception], tuple[int, str, str]] = {
    AuthenticationError: (401, "unauthenticated", "Authentication required"),
    ForbiddenError: (403, "forbidden", "Not allowed"),
    LeadNotFoundError: (404, "not-found", "Lead not found"),
    NotFoundError: (404, "not-found", "Not found"),
    StageConflictError: (409, "stage-conflict", "Step not allowed in the lead's current stage"),
    ConcurrencyError: (409, "version-conflict", "The lead changed concurrently"),
    PayloadTooLargeError: (413, "payload-too-large", "Request body too large"),
    InvalidCommandError: (422, "invalid-input", "Invalid input"),
    CommandTimeoutError: (503, "command-timeout", "The workflow did not answer in time"),
    DBAPIError: (503, "database-unavailable", "The database is unavailable"),
    ConnectionError: (503, "database-unavailable", "The database is unavailable"),
    WorkflowServiceUnavailableError: (503, "workflow-unavailable", "The workflow service is unavailable"),
}


def problem(request: Request, status: int, slug: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"urn:groeiruimte:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _mapped(request: Request, error: Exception) -> JSONResponse:
    status, slug, title = next(v for cls, v in PROBLEMS.items() if isinstance(error, cls))
    extra: dict[str, Any] = {}
    if isinstance(error, StageConflictError):
        extra["stage"] = error.stage
    if isinstance(error, InvalidCommandError):
        extra["invalidParams"] = [{"name": error.field, "code": error.code, "reason": str(error)}]
    # Infrastructure errors say what is unavailable, never how (no driver messages, no stack traces).
    infrastructure = isinstance(error, DBAPIError | ConnectionError)
    detail = "try again later" if infrastructure else str(error)
    return problem(request, status, slug, title, detail, **extra)


async def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    params = [
        {
            "name": ".".join(str(part) for part in item["loc"][1:]) or str(item["loc"][0]),
            "code": item["type"],
            "reason": item["msg"],
        }
        for item in error.errors()
    ]
    detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params)
    return problem(request, 422, "invalid-input", "Invalid input", detail, invalidParams=params)


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "Request failed")
    return problem(request, error.status_code, title.lower().replace(" ", "-"), title, str(error.detail))


def install_problem_handlers(app: FastAPI) -> None:
    for error_class in PROBLEMS:
        app.add_exception_handler(error_class, _mapped)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
