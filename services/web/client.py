"""The UI's client of the API: the same app, in-process over httpx, with the signed-in user's token.

Every rule, every refusal and every validation message comes from the API; this module only carries
them back, in Dutch where a translation is known.
"""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request

from services.web.session import SessionDep

INTERNAL_BASE_URL = "http://groeiruimte.intern"
TITLES = {
    401: "U bent niet (meer) aangemeld",
    403: "Dat mag uw rol niet",
    404: "Niet gevonden",
    409: "Deze stap kan niet in de huidige fase",
    413: "De invoer is te groot",
    422: "Controleer de invoer",
    503: "De workflow antwoordde niet op tijd; probeer het opnieuw",
}
_REASONS = [  # pydantic's English messages -> Dutch
    (r"^Field required$", "Verplicht veld"),
    (r"^Input should be greater than or equal to (.+)$", r"Moet minstens \1 zijn"),
    (r"^Input should be less than or equal to (.+)$", r"Mag hoogstens \1 zijn"),
    (r"^Input should be a valid number.*$", "Vul een getal in"),
    (r"^Input should be a valid integer.*$", "Vul een geheel getal in"),
    (r"^Input should be a valid date.*$", "Vul een geldige datum in"),
    (r"^Input should be a valid datetime.*$", "Vul een geldige datum in"),
    (r"^String should have at least 1 character$", "Verplicht veld"),
    (r"^String should have at most (\d+) characters?$", r"Mag hoogstens \1 tekens bevatten"),
    (r"^String should match pattern .*$", "Heeft niet de juiste vorm"),
    (r"^Input should be (('[^']*'(, | or )?)+)$", r"Kies een van: \1"),
]


@dataclass(frozen=True)
class Problem:
    status: int
    title: str
    detail: str
    fields: dict[str, str] = field(default_factory=dict)  # form field name -> message


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def problem(self) -> Problem | None:
        return None if self.ok else problem_from(self.status, self.body)


def dutch(reason: str) -> str:
    for pattern, replacement in _REASONS:
        if re.match(pattern, reason):
            return re.sub(pattern, replacement, reason)
    return reason


def problem_from(status: int, body: Any) -> Problem:
    body = body if isinstance(body, dict) else {}
    fields = {
        str(param.get("name", "")).split(".")[-1]: dutch(str(param.get("reason", "")))
        for param in body.get("invalidParams", [])
    }
    detail = str(body.get("detail") or "")
    if fields:
        detail = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
    return Problem(status, TITLES.get(status, str(body.get("title") or "Er ging iets mis")), detail, fields)


class ApiClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def get(self, path: str, **params: Any) -> Answer:
        query = {key: value for key, value in params.items() if value not in (None, "")}
        return _answer(await self._http.get(path, params=query))

    async def send(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Answer:
        headers = {}
        if reason:
            headers["X-Audit-Toelichting"] = reason
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return _answer(await self._http.request(method, path, json=body, headers=headers))

    async def raw(self, path: str) -> httpx.Response:
        return await self._http.get(path)


def _answer(response: httpx.Response) -> Answer:
    is_json = "json" in response.headers.get("content-type", "")
    return Answer(response.status_code, response.json() if is_json and response.content else None)


async def api_client(request: Request, session: SessionDep) -> AsyncIterator[ApiClient]:
    headers = {"Authorization": f"Bearer {session.token}"}
    if correlation := request.headers.get("X-Correlation-ID"):
        headers["X-Correlation-ID"] = correlation
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=INTERNAL_BASE_URL, headers=headers) as http:
        yield ApiClient(http)


ApiDep = Annotated[ApiClient, Depends(api_client)]
