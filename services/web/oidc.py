"""Production sign-in through an OIDC provider: authorization code flow with PKCE (Authlib).

Configured by GROEIRUIMTE_OIDC_ISSUER and GROEIRUIMTE_OIDC_CLIENT_ID (and _CLIENT_SECRET for a
confidential client). The provider's token becomes the session token, so it must be one the API
accepts: the API verifies tokens in services/auth.py.
"""

import hashlib
import hmac
import json
import secrets
import warnings
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.auth import AuthenticationError, verify_token
from services.web.rendering import error_page
from services.web.session import WebRoute, container_of, start_session

router = APIRouter(route_class=WebRoute, include_in_schema=False)
TRANSACTION_COOKIE = "groeiruimte_oidc"


class OidcSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GROEIRUIMTE_OIDC_")

    issuer: str = ""
    client_id: str = ""
    client_secret: str | None = None
    scope: str = "openid profile email"


def oidc_configured() -> bool:
    settings = OidcSettings()
    return bool(settings.issuer and settings.client_id)


async def discover(issuer: str, http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
    response.raise_for_status()
    metadata: dict[str, Any] = response.json()
    return metadata


def _client(settings: OidcSettings, redirect_uri: str, transport: httpx.AsyncBaseTransport | None) -> Any:
    with warnings.catch_warnings():  # Authlib prefers the `httpx2` fork and warns when it uses httpx
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import AsyncOAuth2Client
    return AsyncOAuth2Client(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scope=settings.scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        transport=transport,
    )


def _sign(request: Request, payload: str) -> str:
    key = container_of(request).settings.jwt_secret.encode()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


@router.get("/ui/oidc/aanmelden")
async def start(request: Request, volgende: str = "/ui/") -> Response:
    settings = OidcSettings()
    if not (settings.issuer and settings.client_id):
        return error_page(request, 404, "Niet ingesteld", "Er is geen identiteitsprovider ingesteld.")
    transport = getattr(request.app.state, "oidc_transport", None)
    async with httpx.AsyncClient(transport=transport) as http:
        metadata = await discover(settings.issuer, http)
    verifier = secrets.token_urlsafe(48)
    client = _client(settings, str(request.url_for("oidc_callback")), transport)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
    payload = json.dumps({"state": state, "verifier": verifier, "next": volgende})
    response = RedirectResponse(url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site navigation that must carry it.
    response.set_cookie(
        TRANSACTION_COOKIE, f"{_sign(request, payload)}.{payload}", max_age=600, httponly=True, samesite="lax"
    )
    return response


@router.get("/ui/oidc/terug", name="oidc_callback")
async def callback(request: Request, code: str = "", state: str = "") -> Response:
    transaction = _transaction(request)
    if transaction is None or not secrets.compare_digest(transaction["state"], state):
        return error_page(
            request, 400, "Aanmelden mislukt", "De aanmelding is verlopen; probeer het opnieuw."
        )
    settings, transport = OidcSettings(), getattr(request.app.state, "oidc_transport", None)
    async with httpx.AsyncClient(transport=transport) as http:
        metadata = await discover(settings.issuer, http)
    client = _client(settings, str(request.url_for("oidc_callback")), transport)
    token = await client.fetch_token(
        metadata["token_endpoint"], code=code, code_verifier=transaction["verifier"]
    )
    bearer = str(token.get("access_token", ""))
    try:
        verify_token(container_of(request).settings, bearer)
    except AuthenticationError:
        detail = "De API accepteert de tokens van deze provider (nog) niet: zie services/auth.py."
        return error_page(request, 401, "Aanmelden mislukt", detail)
    response = RedirectResponse(
        transaction["next"] if transaction["next"].startswith("/ui/") else "/ui/", 303
    )
    response.delete_cookie(TRANSACTION_COOKIE)
    start_session(request, response, bearer)
    return response


def _transaction(request: Request) -> dict[str, str] | None:
    signature, _, payload = request.cookies.get(TRANSACTION_COOKIE, "").partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(request, payload)):
        return None
    found: dict[str, str] = json.loads(payload)
    return found
