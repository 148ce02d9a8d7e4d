"""FastAPI dependencies, named as the types they provide. All async: FastAPI runs a plain function
dependency in its thread pool, a hop per dependency on every request."""

from typing import Annotated

from fastapi import Depends, Request

from events.store import EventStore
from services.auth import AuthenticationError, Principal
from services.container import Container
from services.lead_commands import LeadCommandService, WorkflowServiceUnavailableError
from services.oidc import TokenVerifier
from services.persons import PersonVault


async def get_container(request: Request) -> Container:
    return request_container(request)


def request_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


# The dependencies below read the container from the request themselves rather than through
# ContainerDep: FastAPI solves a sub-dependency again under every dependency that declares it (its
# cache only spares the call), and a command route asks for several of these.


async def get_store(request: Request) -> EventStore:
    return request_container(request).store


async def get_commands(request: Request) -> LeadCommandService:
    container = request_container(request)
    if container.commands is None:
        raise WorkflowServiceUnavailableError("the API is not connected to Temporal")
    return container.commands


async def get_person_vault(request: Request) -> PersonVault:
    return PersonVault(request_container(request).engine)


async def current_user(request: Request) -> Principal:
    """The caller, from the Authorization header only (never from the query string or a cookie)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("a bearer token is required")
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(token.strip())


EventStoreDep = Annotated[EventStore, Depends(get_store)]
CommandsDep = Annotated[LeadCommandService, Depends(get_commands)]
CurrentUser = Annotated[Principal, Depends(current_user)]
PersonVaultDep = Annotated[PersonVault, Depends(get_person_vault)]
