"""The browser session: the user's bearer token in an HttpOnly, SameSite=Strict cookie; CSRF per form.

The token is the same one the API checks; the UI keeps no rights of its own. Forms carry a CSRF token
that must match a second cookie (double submit), on top of SameSite=Strict.
"""

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from services.auth import AuthenticationError, Principal, Role, verify_token
from services.container import Container

SESSION_COOKIE = "groeiruimte_sessie"
CSRF_COOKIE = "groeiruimte_csrf"
CSRF_FIELD = "csrf_token"
WRITERS = frozenset({Role.TASKFORCE, Role.COORDINATOR})
MONITORS = frozenset({Role.TASKFORCE, Role.COORDINATOR, Role.AUDITOR, Role.MINISTRY})


class SignInRequiredError(Exception):
    """No valid session: the browser is sent to the sign-in page."""


class CsrfError(Exception):
    """A form without the CSRF token of this browser."""


@dataclass(frozen=True)
class WebSession:
    token: str
    principal: Principal

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def may_write(self) -> bool:
        return bool(self.principal.roles & WRITERS)

    def navigation(self, path: str) -> list[tuple[str, str, bool]]:
        """The menu for this role: (link, label, is the current page)."""
        roles = self.principal.roles
        items = [
            ("/ui/werkvoorraad", "Werkvoorraad", roles & {Role.TASKFORCE, Role.COORDINATOR, Role.AUDITOR}),
            ("/ui/leads/nieuw", "Nieuwe lead", roles & WRITERS),
            ("/ui/verzoeken", "Verzoeken", Role.PARTNER in roles),
            ("/ui/dashboard", "Dashboard", roles & MONITORS),
            ("/ui/rapportages", "Rapportages", roles & MONITORS),
        ]
        return [(href, name, path.startswith(href)) for href, name, allowed in items if allowed]


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def current_session(request: Request) -> WebSession:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequiredError
    try:
        session = WebSession(token, verify_token(container_of(request).settings, token))
    except AuthenticationError as error:
        raise SignInRequiredError from error
    request.state.web_session = session
    return session


SessionDep = Annotated[WebSession, Depends(current_session)]


def csrf_token(request: Request) -> str:
    """This browser's CSRF token (made on first use; `remember_csrf` puts it in the cookie)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
    request.state.csrf = token
    return str(token)


async def check_csrf(request: Request) -> None:
    form = await request.form()
    sent, expected = str(form.get(CSRF_FIELD, "")), request.cookies.get(CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(sent, expected):
        raise CsrfError


CsrfChecked = Depends(check_csrf)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or container_of(request).settings.environment == "production"


def remember_csrf(request: Request, response: Response) -> None:
    if request.cookies.get(CSRF_COOKIE) is None and getattr(request.state, "csrf", None):
        response.set_cookie(
            CSRF_COOKIE,
            request.state.csrf,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path="/",
        )


def start_session(request: Request, response: Response, token: str, expires_in: int | None = None) -> None:
    """The session cookie lives as long as the token (`expires_in` seconds when the provider says so)."""
    ttl = container_of(request).settings.token_ttl_hours * 3600
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=min(ttl, expires_in) if expires_in else ttl,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


class WebRoute(APIRoute):
    """Routes of the UI: no session sends the browser to sign in; a missing CSRF token is refused."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequiredError:
                target = quote(request.url.path if request.method == "GET" else "/ui/")
                return RedirectResponse(f"/ui/aanmelden?volgende={target}", status_code=303)
            except CsrfError:
                from services.web.rendering import error_page

                return error_page(
                    request, 403, "Formulier verlopen", "Laad de pagina opnieuw en probeer het nog eens."
                )

        return guarded
