"""The web UI's router (every page) and its static files, for services/api/app.py to include."""

from importlib.resources import files

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from services.web import oidc
from services.web.pages import contacts, dashboard, inbox, lead, reports, signin, worklist

router = APIRouter(include_in_schema=False)
for module in (signin, oidc, worklist, lead, contacts, inbox, dashboard, reports):
    router.include_router(module.router)

STATIC_PATH = "/ui/static"


def static_files() -> StaticFiles:
    return StaticFiles(directory=str(files("services.web") / "static"))
