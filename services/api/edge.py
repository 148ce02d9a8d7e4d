"""The HTTP edge (NL API Design Rules), in front of every route: correlation id and API-Version, security
headers, body limit (413), rate limits (429 with Retry-After), no credentials in query strings (400),
no trailing slashes (404), and a 500 problem without internals for anything unexpected."""

import logging
import re
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.problems import problem
from services.api.rate_limits import RateLimiter
from services.observability import CORRELATION_ID, correlation_id_from
from services.settings import Settings

API_VERSION = "1.0.0"
log = logging.getLogger("groeiruimte.api")
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
CREDENTIAL_PARAMETERS = frozenset({"access_token", "id_token", "token", "jwt", "bearer", "api_key", "apikey"})
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
CACHEABLE_PREFIXES = ("/ui/static/", "/docs-assets/")
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


_COUNTED: ContextVar[bool] = ContextVar("rate_limit_counted", default=False)


class BodyTooLargeError(HTTPException):
    """A streamed body grew past the limit (an HTTPException, so FastAPI's body parsing lets it through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body may be at most {limit} bytes")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.limiter = RateLimiter(settings) if settings.rate_limit_enabled else None
        self.keepalive = KeepAliveBudget(settings.api_keepalive_requests)
        self.headers = EdgeHeaders(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        correlation_id = correlation_id_from(dict(request.headers))
        CORRELATION_ID.set(correlation_id)
        added = self.headers.for_answer(scope["path"], correlation_id, close=self.keepalive.spent(scope))
        outgoing = _with_headers(send, added)
        refusal = self._refusal(request)
        if refusal is not None:
            await refusal(scope, receive, outgoing)
            return
        counted = _COUNTED.set(True)
        try:
            await self._call(scope, _limited(receive, self.settings.max_body_bytes), outgoing)
        finally:
            _COUNTED.reset(counted)

    async def _call(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except BodyTooLargeError:
            if not started:
                await _too_large(Request(scope), self.settings)(scope, receive, send)
        except Exception:
            log.exception("unexpected error in %s %s", scope["method"], scope["path"])
            if not started:
                await _internal_error(Request(scope))(scope, receive, send)

    def _refusal(self, request: Request) -> Response | None:
        """A problem answer when the request is refused at the edge; None to let it through."""
        length = request.headers.get("content-length", "0")
        if length.isdigit() and int(length) > self.settings.max_body_bytes:
            return _too_large(request, self.settings)
        if _credentials_in_query(request):
            detail = "credentials are accepted only in the Authorization header, never in the URL"
            return problem(request, 400, "credentials-in-query", "Credentials in the query string", detail)
        path: str = request.scope["path"]  # as request.url.path, without building the whole URL
        if path != "/" and path.endswith("/") and not path.startswith("/ui"):
            return problem(request, 404, "not-found", "Not found", "no resource at this path")
        # The web UI calls the API in-process for its pages: those calls run within the page request
        # (the context variable says so; nothing from outside can set it) and count with it.
        if self.limiter is not None and path not in UNLIMITED_PATHS and not _COUNTED.get():
            return self.limiter.refusal(request)
        return None


class KeepAliveBudget:
    """At most `requests` requests per keep-alive connection (0: no limit): the answer that spends a
    connection's budget says `Connection: close`, and the client opens a new one.

    Why: the processes of a multi-worker API (`GROEIRUIMTE_API_WORKERS`) share one listening socket, and
    each accepts everything waiting when it wakes. A client that opens its connections at once — a
    reverse proxy's pool, a load generator — can leave most of them with one process for as long as they
    live (14 of 20 on one of two processes, measured): that process's callers wait twice as long as the
    other's. A connection that is reopened now and then is accepted by whichever process is free first,
    so the connections drift to the least busy process (nginx's `keepalive_requests`, for the same end).
    Counted per client address and port, in this process (behind a proxy on the same host, whose
    forwarded address uvicorn puts in the scope, per forwarded client: a close now and then all the same).
    """

    FORGET_AFTER = 10_000  # addresses remembered at most (of connections that closed before their end)

    def __init__(self, requests: int) -> None:
        self._requests = requests
        self._served: dict[tuple[str, int], int] = {}

    def spent(self, scope: Scope) -> bool:
        """Count this request on its connection; True when the answer should close the connection."""
        client = scope.get("client")
        if not self._requests or client is None:
            return False
        address = (client[0], client[1])
        served = self._served.pop(address, 0) + 1
        if served >= self._requests:
            return True
        if len(self._served) >= self.FORGET_AFTER:
            self._served.clear()
        self._served[address] = served
        return False


def _credentials_in_query(request: Request) -> bool:
    params = request.query_params
    return any(
        name.lower() in CREDENTIAL_PARAMETERS or _JWT.search(value) for name, value in params.multi_items()
    )


def _too_large(request: Request, settings: Settings) -> Response:
    detail = f"the body may be at most {settings.max_body_bytes} bytes"
    return problem(request, 413, "payload-too-large", "Request body too large", detail)


def _internal_error(request: Request) -> Response:
    detail = "something went wrong on our side; the correlation id identifies it in our logs"
    return problem(request, 500, "internal-error", "Internal server error", detail)


def _limited(receive: Receive, limit: int) -> Receive:
    """The body stream, refused once it passes `limit` bytes (a chunked body has no Content-Length)."""
    seen = 0

    async def receiving() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLargeError(limit)
        return message

    return receiving


def security_headers(path: str, settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
    if settings.hsts_max_age_seconds:
        headers["Strict-Transport-Security"] = f"max-age={settings.hsts_max_age_seconds}; includeSubDomains"
    if not path.startswith(CACHEABLE_PREFIXES):
        headers["Cache-Control"] = "no-store"
    return headers


class EdgeHeaders:
    """The headers the edge adds to every answer, encoded once per kind of answer (cacheable or not,
    closing the connection or not) instead of once per request; only the correlation id varies."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._fixed: dict[tuple[bool, bool], list[tuple[bytes, bytes]]] = {}

    def for_answer(self, path: str, correlation_id: str, *, close: bool) -> list[tuple[bytes, bytes]]:
        cacheable = path.startswith(CACHEABLE_PREFIXES)
        fixed = self._fixed.get((cacheable, close))
        if fixed is None:
            added = {**security_headers(path, self._settings), "API-Version": API_VERSION}
            if close:
                added["Connection"] = "close"
            fixed = [(name.lower().encode(), value.encode()) for name, value in added.items()]
            self._fixed[(cacheable, close)] = fixed
        return [*fixed, (b"x-correlation-id", correlation_id.encode())]


def _with_headers(send: Send, added: list[tuple[bytes, bytes]]) -> Send:
    names = {name for name, _ in added}

    async def sending(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in names]
            message["headers"] = kept + added
        await send(message)

    return sending
