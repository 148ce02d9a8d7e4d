"""Signing in and out, and the landing page that depends on the role.

Development: paste a token or choose a demo user (a token is minted on the server, development only).
Production: the OIDC provider of the settings (services/web/oidc.py).
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from services.auth import AuthenticationError, Role, mint_token, verify_token
from services.web.demo.users import DEMO_USERS
from services.web.oidc import oidc_configured
from services.web.rendering import error_page, render
from services.web.session import (
    CsrfChecked,
    SessionDep,
    WebRoute,
    container_of,
    end_session,
    start_session,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SIGN_IN = "signin.html"


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/")
async def landing(session: SessionDep) -> RedirectResponse:
    """Coordinator and ministry start on the dashboard, partners in their inbox, others in the work list."""
    if session.role in (Role.COORDINATOR, Role.MINISTRY):
        return RedirectResponse("/ui/dashboard", status_code=303)
    if session.role is Role.PARTNER:
        return RedirectResponse("/ui/verzoeken", status_code=303)
    return RedirectResponse("/ui/werkvoorraad", status_code=303)


@router.get("/ui/aanmelden")
async def sign_in_page(request: Request, volgende: str = "/ui/") -> Response:
    return render(request, SIGN_IN, _context(request, volgende))


@router.post("/ui/aanmelden", dependencies=[CsrfChecked])
async def sign_in(
    request: Request,
    token: Annotated[str, Form()] = "",
    demo_user: Annotated[str, Form()] = "",
    volgende: Annotated[str, Form()] = "/ui/",
) -> Response:
    settings = container_of(request).settings
    if demo_user:
        if settings.environment != "development" or demo_user not in DEMO_USERS:
            return error_page(
                request, 403, "Niet beschikbaar", "Demogebruikers bestaan alleen in ontwikkeling."
            )
        user = DEMO_USERS[demo_user]
        token = mint_token(settings, role=user.role, org=user.org, sub=user.sub)
    try:
        verify_token(settings, token.strip())
    except AuthenticationError:
        context = _context(request, volgende) | {"fout": "Dit token is ongeldig of verlopen."}
        return render(request, SIGN_IN, context, 401)
    response = RedirectResponse(_local(volgende), status_code=303)
    start_session(request, response, token.strip())
    return response


@router.post("/ui/afmelden", dependencies=[CsrfChecked])
async def sign_out() -> Response:
    response = RedirectResponse("/ui/aanmelden", status_code=303)
    end_session(response)
    return response


def _context(request: Request, volgende: str) -> dict[str, object]:
    development = container_of(request).settings.environment == "development"
    return {
        "demo_users": list(DEMO_USERS.values()) if development else [],
        "oidc": oidc_configured(),
        "volgende": _local(volgende),
    }


def _local(target: str) -> str:
    """Only paths of this UI: never an open redirect."""
    return target if target.startswith("/ui/") and not target.startswith("//") else "/ui/"
