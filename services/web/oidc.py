"""Production sign-in through an OIDC provider: authorization code flow with PKCE (Authlib).

Configured by GROEIRUIMTE_OIDC_ISSUER and GROEIRUIMTE_OIDC_CLIENT_ID (and _CLIENT_SECRET for a
confidential client; _RESOURCE when the provider picks the access token's audience by RFC 8707
resource indicator). The provider's access token becomes the session token, so it must be one the API
accepts: the API verifies tokens in services/oidc.py. Tested against a real provider in
tests/integration/test_oidc_provider.py and tests/browser/test_oidc_signin.py.
"""

import hashlib
import hmac
import json
import secrets
import warnings
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.auth import AuthenticationError, IdentityProviderUnavailableError, verify_token
from services.oidc import UnknownUserError
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
    # Sent as `resource` (RFC 8707) on both requests; providers such as oidc-provider issue a JWT access
    # token for the API only when asked for it, and an opaque one for their userinfo endpoint otherwise.
    resource: str = ""

    def extra_parameters(self) -> dict[str, str]:
        return {"resource": self.resource} if self.resource else {}


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
    try:
        async with httpx.AsyncClient(transport=transport) as http:
            metadata = await discover(settings.issuer, http)
    except httpx.HTTPError:
        return error_page(request, 503, "Aanmelden mislukt", "De identiteitsprovider is niet bereikbaar.")
    verifier = secrets.token_urlsafe(48)
    client = _client(settings, _redirect_uri(request), transport)
    url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, **settings.extra_parameters()
    )
    payload = json.dumps({"state": state, "verifier": verifier, "next": volgende})
    response = RedirectResponse(url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site navigation that must carry it.
    response.set_cookie(
        TRANSACTION_COOKIE, f"{_sign(request, payload)}.{payload}", max_age=600, httponly=True, samesite="lax"
    )
    return response


@router.get("/ui/oidc/terug", name="oidc_callback")
async def callback(
    request: Request, code: str = "", state: str = "", error: str = "", iss: str = ""
) -> Response:
    transaction = _transaction(request)
    if transaction is None or not secrets.compare_digest(transaction["state"], state):
        return _failed(request, 400, "De aanmelding is verlopen; probeer het opnieuw.")
    if error or not code:  # e.g. access_denied: the user cancelled at the provider
        return _failed(request, 401, "De aanmelding is bij de identiteitsprovider afgebroken.")
    try:
        bearer, expires_in = await _redeem(request, code, iss, transaction["verifier"])
        verify_token(container_of(request).settings, bearer)
    except (httpx.HTTPError, OAuthError, IdentityProviderUnavailableError):
        return _failed(request, 503, "De identiteitsprovider is niet bereikbaar of weigerde de code.")
    except UnknownUserError:
        return _failed(request, 403, "Uw account heeft geen rol of organisatie in groeiruimte.")
    except AuthenticationError:
        return _failed(request, 401, "De API accepteert de tokens van deze provider niet.")
    response = RedirectResponse(
        transaction["next"] if transaction["next"].startswith("/ui/") else "/ui/", 303
    )
    response.delete_cookie(TRANSACTION_COOKIE)
    start_session(request, response, bearer, expires_in)
    return response


async def _redeem(request: Request, code: str, iss: str, verifier: str) -> tuple[str, int | None]:
    """The access token and its lifetime for an authorization code (PKCE verifier, same redirect URI)."""
    settings, transport = OidcSettings(), getattr(request.app.state, "oidc_transport", None)
    async with httpx.AsyncClient(transport=transport) as http:
        metadata = await discover(settings.issuer, http)
    if iss and iss != metadata["issuer"]:  # RFC 9207: the answer came from another provider
        raise OAuthError("invalid_issuer", "the authorization response names another issuer")
    client = _client(settings, _redirect_uri(request), transport)
    token = await client.fetch_token(
        metadata["token_endpoint"], code=code, code_verifier=verifier, **settings.extra_parameters()
    )
    expires_in = token.get("expires_in")
    return str(token.get("access_token", "")), int(expires_in) if expires_in else None


def _failed(request: Request, status: int, detail: str) -> Response:
    response = error_page(request, status, "Aanmelden mislukt", detail)
    response.delete_cookie(TRANSACTION_COOKIE)  # a transaction is used once, whatever the outcome
    return response


def _redirect_uri(request: Request) -> str:
    """The callback as the provider knows it: under the public URL when one is set (behind a proxy)."""
    public_url = container_of(request).settings.public_url
    if public_url:
        return public_url.rstrip("/") + str(request.app.url_path_for("oidc_callback"))
    return str(request.url_for("oidc_callback"))


def _transaction(request: Request) -> dict[str, str] | None:
    signature, _, payload = request.cookies.get(TRANSACTION_COOKIE, "").partition(".")
    if not payload or not hmac.compare_digest(signature, _sign(request, payload)):
        return None
    found: dict[str, str] = json.loads(payload)
    return found
