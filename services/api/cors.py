"""CORS, closed unless configured: the API for `cors_origins`, the codec endpoint for the Temporal UI's
origin (`codec_cors_origins`, with its operator's credentials). Without origins no browser elsewhere
may call us (a preflight is refused, a response carries no Access-Control-Allow-Origin)."""

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from services.settings import Settings

CODEC_PREFIX = "/codec"
API_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Audit-Toelichting", "X-Correlation-ID"]


class CorsByPath:
    """Two CORS policies: one for the codec endpoint, one for everything else."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.api = CORSMiddleware(
            app,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=API_HEADERS,
            expose_headers=["API-Version", "X-Correlation-ID", "Retry-After", "Location"],
        )
        self.codec = CORSMiddleware(
            app,
            allow_origins=settings.codec_cors_origins,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            allow_credentials=True,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        codec = scope["type"] == "http" and scope["path"].startswith(CODEC_PREFIX + "/")
        await (self.codec if codec else self.api)(scope, receive, send)
