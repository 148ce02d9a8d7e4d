"""RFC 9457 problem responses: one table maps every exception to its HTTP answer."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from events.errors import ConcurrencyError, InvalidCommandError, LeadNotFoundError, StageConflictError
from services.access import ForbiddenError, NotFoundError
from services.auth import AuthenticationError, IdentityProviderUnavailableError
from services.lead_commands import CommandTimeoutError, WorkflowServiceUnavailableError

PROBLEM_JSON = "application/problem+json"
__all__ = [
    "PROBLEMS",
    "BadRequestError",
    "NotFoundError",
    "PayloadTooLargeError",
    "install_problem_handlers",
    "problem",
]


class PayloadTooLargeError(Exception):
    """The request body is over the configured limit."""


class BadRequestError(Exception):
    """A request the API does not take (unknown query parameters, a malformed codec body)."""

    def __init__(self, message: str, *names: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.names = names
        self.code = code


# exception class -> (status, slug, title)
PROBLEMS: dict[type[Exception], tuple[int, str, str]] = {
    BadRequestError: (400, "bad-request", "Bad request"),
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
    IdentityProviderUnavailableError: (503, "identity-provider-unavailable", "Tokens cannot be checked now"),
}


class InvalidParam(BaseModel):
    name: str
    code: str
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, never how (no stack traces, no internals)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    invalidParams: list[InvalidParam] | None = None
    stage: str | None = None


_DESCRIPTIONS = {
    400: "Unknown query parameter or malformed request",
    401: "No or bad token",
    403: "Not allowed",
    404: "Unknown (or not yours to know)",
    409: "The lead's stage does not allow this step",
    413: "Request body too large",
    422: "Invalid input",
    429: "Too many requests (see Retry-After)",
    500: "Internal error",
    503: "A dependency is unavailable; retry later",
}
# Every route may answer these, as application/problem+json (documented in the OpenAPI).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "model": Problem,  # registers the schema; the answers themselves are application/problem+json
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, description in _DESCRIPTIONS.items()
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
    if isinstance(error, BadRequestError):
        extra["invalidParams"] = [
            {"name": name, "code": error.code, "reason": str(error)} for name in error.names
        ]
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


_HTTP_TITLES = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}
_HTTP_SLUGS = {413: "payload-too-large"}


async def _http(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    title = _HTTP_TITLES.get(status, "Request failed")
    slug = _HTTP_SLUGS.get(status, title.lower().replace(" ", "-"))
    return problem(request, status, slug, title, str(error.detail))


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    """Whatever else went wrong: a 500 problem, the details only in our logs (the edge logs them)."""
    detail = "something went wrong on our side; the correlation id identifies it in our logs"
    return problem(request, 500, "internal-error", "Internal server error", detail)


def install_problem_handlers(app: FastAPI) -> None:
    for error_class in PROBLEMS:
        app.add_exception_handler(error_class, _mapped)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
