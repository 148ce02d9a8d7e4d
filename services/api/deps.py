"""FastAPI dependencies, named as the types they provide."""

from typing import Annotated

from fastapi import Depends, Request

from events.store import EventStore
from services.auth import AuthenticationError, Principal, verify_token
from services.container import Container
from services.lead_commands import LeadCommandService, WorkflowServiceUnavailableError


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_store(container: ContainerDep) -> EventStore:
    return container.store


def get_commands(container: ContainerDep) -> LeadCommandService:
    if container.commands is None:
        raise WorkflowServiceUnavailableError("the API is not connected to Temporal")
    return container.commands


def current_user(request: Request, container: ContainerDep) -> Principal:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("a bearer token is required")
    return verify_token(container.settings, token.strip())


EventStoreDep = Annotated[EventStore, Depends(get_store)]
CommandsDep = Annotated[LeadCommandService, Depends(get_commands)]
CurrentUser = Annotated[Principal, Depends(current_user)]
