"""Rendering the UI's Jinja2 templates, with Dutch formatting filters and the CSRF token."""

from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from services.reports import labels
from services.reports.html import moment
from services.web.charts.svg import euros, number
from services.web.session import CSRF_FIELD, csrf_token, remember_csrf

_templates: Jinja2Templates | None = None


def day(value: date | datetime | str | None) -> str:
    """A date as 31-12-2026."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime("%d-%m-%Y")


def plain(value: object) -> str:
    """A value of a demand's specification as text: 7.500 rather than 7500.0, ja/nee, lists joined."""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, int | float):
        return number(value, decimals=0 if float(value).is_integer() else 1)
    if isinstance(value, list):
        return ", ".join(plain(item) for item in value)
    return str(value)


def templates() -> Jinja2Templates:
    global _templates
    if _templates is None:
        environment = Environment(
            loader=PackageLoader("services.web", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.filters.update(day=day, moment=moment, euros=euros, number=number, plain=plain)
        environment.globals.update(labels=labels, organisation=labels.organisation, label=labels.label)
        environment.globals["csrf_field"] = CSRF_FIELD
        _templates = Jinja2Templates(env=environment)
    return _templates


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a page; every page knows the session (if any) and this browser's CSRF token."""
    context = {"session": getattr(request.state, "web_session", None), **context}
    context["csrf_token"] = csrf_token(request)
    response = templates().TemplateResponse(request, name, context, status_code=status)
    remember_csrf(request, response)
    return response


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "detail": detail, "status": status}, status)
