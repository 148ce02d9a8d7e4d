"""Unknown query parameters are refused (400) on the API's own routes, so a typo in a filter never
silently returns everything (NL API Design Rules). The web UI, the docs and the codec are left alone."""

from typing import Any

from fastapi import Request

from services.api.problems import BadRequestError

API_PREFIX = "/v1/"


def _query_names(dependant: Any) -> set[str]:
    """The query parameters a route (or dependency) takes, its sub-dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


_KNOWN: dict[int, frozenset[str]] = {}


def _known(route: Any) -> frozenset[str]:
    """The route's query parameters, worked out once per route object."""
    key = id(route.dependant)
    if key not in _KNOWN:
        _KNOWN[key] = frozenset(_query_names(route.dependant))
    return _KNOWN[key]


async def known_query_parameters_only(request: Request) -> None:
    """Refuse a request to a /v1/ route with query parameters the route does not take."""
    route = request.scope.get("route")
    if route is None or not request.scope["path"].startswith(API_PREFIX):
        return
    unknown = sorted(set(request.query_params) - _known(route))
    if unknown:
        message = f"unknown query parameter(s): {', '.join(unknown)}"
        raise BadRequestError(message, *unknown, code="unknown_parameter")
