"""`groeiruimte demo`: drive the storylines through the real HTTP API of a running, empty system."""

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from services.auth import Role, mint_token
from services.settings import Settings
from services.web.demo.scenario import LeadPlan, Step, plans
from services.web.demo.users import DEMO_USERS

_PLACEHOLDER = re.compile(r"\{(lead|demand\d+|option\d+|request\d+)\}")
_ANSWER_ID = {"lead": "lead_id", "demand": "demand_id", "option": "option_id", "request": "request_id"}
RETRIES = 40  # a partner sees a request once the projector has put it in its inbox


class DemoError(Exception):
    """The system refused a step of the demo."""


class NotEmptyError(DemoError):
    """The system already holds leads: demo data go only into an empty one."""


@dataclass(frozen=True)
class DemoResult:
    leads: int
    steps: int


class _Identities:
    """Development tokens for each organisation's taskforce and each partner (development only)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._people = {
            user.org: user.sub for user in DEMO_USERS.values() if user.role is not Role.COORDINATOR
        }

    def headers(self, actor: str, owner_org: str) -> dict[str, str]:
        role, org = (
            (Role.PARTNER, actor.split(":", 1)[1])
            if actor.startswith("partner:")
            else (Role.TASKFORCE, owner_org)
        )
        sub = self._people.get(org, f"casemanager@{org}.example")
        return {"Authorization": f"Bearer {mint_token(self._settings, role=role, org=org, sub=sub)}"}

    def coordinator(self) -> dict[str, str]:
        user = DEMO_USERS["coordinator"]
        return self._bearer(user.role, user.org, user.sub)

    def _bearer(self, role: Role, org: str, sub: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(self._settings, role=role, org=org, sub=sub)}"}


async def load_demo(
    settings: Settings, base_url: str, *, seed: int = 2025, concurrency: int = 6
) -> DemoResult:
    """Fill an empty system with the demo's leads; refuses when any lead exists."""
    identities = _Identities(settings)
    all_plans = plans(seed, settings.programme_start, datetime.now(UTC))
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        existing = await http.get("/v1/leads", params={"limit": 1}, headers=identities.coordinator())
        existing.raise_for_status()
        if existing.json()["count"]:
            raise NotEmptyError(f"het systeem bevat al {existing.json()['count']} leads")
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int, plan: LeadPlan) -> int:
            async with gate:
                return await _run(http, identities, plan, f"demo-{seed}-{index}")

        steps = await asyncio.gather(*(one(i, plan) for i, plan in enumerate(all_plans)))
    return DemoResult(leads=len(all_plans), steps=sum(steps))


async def _run(http: httpx.AsyncClient, identities: _Identities, plan: LeadPlan, key: str) -> int:
    ids: dict[str, str] = {}
    for number, step in enumerate(plan.steps):
        headers = identities.headers(step.actor, plan.company.owner_org) | {
            "Idempotency-Key": f"{key}-{number}"
        }
        answer = await _send(http, step, ids, headers)
        if step.capture:
            ids[step.capture] = str(answer[_ANSWER_ID[step.capture.rstrip("0123456789")]])
    return len(plan.steps)


async def _send(http: httpx.AsyncClient, step: Step, ids: dict[str, str], headers: dict[str, str]) -> Any:
    path, body = _fill(step.path, ids), _fill(step.body, ids)
    for _ in range(RETRIES):
        response = await http.request(step.method, path, json=body, headers=headers)
        waiting = response.status_code == 503 or (response.status_code == 404 and step.actor != "owner")
        if not waiting:
            break
        await asyncio.sleep(0.5)
    if response.status_code >= 400:
        raise DemoError(f"{step.method} {path} answered {response.status_code}: {response.text[:500]}")
    return response.json()


def _fill(value: Any, ids: dict[str, str]) -> Any:
    """The value with every {placeholder} replaced by the id captured earlier."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda match: ids[match.group(1)], value)
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {name: _fill(item, ids) for name, item in value.items()}
    return value
