"""Helpers for the audit tests: leads written straight to the event store through the lead's rules,
an in-process API on a given store, and tampering the way an administrator with database rights could."""

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events import commands as cmd
from events.decide import decide
from events.demands import SpaceSpec
from events.details import Company, LeadDetails
from events.reference import CompanyStage, OutcomeCode, Region
from events.store import Actor, EventMetadata, NewEvent, StoredEvent
from services.api.app import create_app
from services.auth import Role, mint_token
from services.container import Container, build_container
from services.lead_reads import load_lead
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from workflows.payloads import workflow_id_for

TASKFORCE = Actor(sub="anna@bom.nl", org="bom", role="taskforce")


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC)


class LeadWriter:
    """One lead's commands decided by the domain rules and appended directly (no workflow needed)."""

    def __init__(self, store: SqlEventStore, lead_id: uuid.UUID | None = None) -> None:
        self.store = store
        self.lead_id = lead_id or uuid.uuid4()
        self.stream_id = workflow_id_for(self.lead_id)

    async def do(self, command: Any, occurred_at: str, reason: str | None = None) -> list[StoredEvent]:
        state = await load_lead(self.store, self.lead_id)
        metadata = EventMetadata(actor=TASKFORCE, reason=reason)
        new_events = [
            NewEvent.from_domain(event, event_id=uuid.uuid4(), occurred_at=at(occurred_at), metadata=metadata)
            for event in decide(state, command)
        ]
        return await self.store.append(self.stream_id, state.version if state else 0, new_events)

    async def signal(self, occurred_at: str, **details: Any) -> "LeadWriter":
        lead = LeadDetails(
            **{
                "company": Company(name="Fotonica BV"),
                "owner_org": "bom",
                "home_region": Region.ZUID,
                **details,
            }
        )
        await self.do(cmd.SignalLead(lead_id=self.lead_id, details=lead), occurred_at)
        return self

    async def start_case(self, occurred_at: str) -> None:
        """A demand and the start of the case-based approach (→ brokering)."""
        demand = cmd.ArticulateDemand(demand_id=uuid.uuid4(), spec=SpaceSpec(floor_area_m2=4000))
        await self.do(demand, occurred_at)
        await self.do(cmd.CompleteArticulation(), occurred_at)

    async def realise_elsewhere(self, occurred_at: str, investment_eur: float, *, scale_up: bool) -> None:
        if scale_up:
            await self.do(cmd.ChangeCompanyStage(company_stage=CompanyStage.SCALE_UP), occurred_at)
        outcome = cmd.RecordOutcome(
            code=OutcomeCode.REALISED_OTHER_REGION, region=Region.OOST, investment_eur=investment_eur, jobs=50
        )
        await self.do(outcome, occurred_at)


class AuditApi:
    """The app in-process on its own container; no Temporal unless a test hands in a command service."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.store = container.store
        self.app = create_app(container.settings, container)
        self._transport = httpx.ASGITransport(app=self.app)

    @classmethod
    async def on(cls, database_url: str, **settings: Any) -> "AuditApi":
        return cls(
            await build_container(
                Settings(database_url=database_url, rate_limit_enabled=False, **settings), with_temporal=False
            )
        )

    def as_(self, role: Role, org: str, sub: str | None = None) -> httpx.AsyncClient:
        token = mint_token(self.container.settings, role=role, org=org, sub=sub or f"{role.value}@{org}")
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(transport=self._transport, base_url="http://api", headers=headers)


async def tamper(engine: AsyncEngine, statement: str, **params: Any) -> None:
    """Run a statement on the events table with its immutability triggers out of the way."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("ALTER TABLE events DISABLE TRIGGER ALL"))
            await connection.execute(text(statement), params)
            await connection.execute(text("ALTER TABLE events ENABLE TRIGGER ALL"))
            return
        for operation in ("update", "delete"):
            await connection.execute(text(f"DROP TRIGGER events_reject_{operation}"))
        await connection.execute(text(statement), params)
        for operation in ("UPDATE", "DELETE"):
            await connection.execute(
                text(
                    f"CREATE TRIGGER events_reject_{operation.lower()} BEFORE {operation} ON events "
                    "BEGIN SELECT RAISE(ABORT, 'events are immutable'); END"
                )
            )


async def change_data(engine: AsyncEngine, position: int, data: dict[str, Any]) -> None:
    """Overwrite the stored data of one event, as an administrator with database rights could."""
    value = "CAST(:data AS json)" if engine.dialect.name == "postgresql" else ":data"
    statement = f"UPDATE events SET data = {value} WHERE position = :position"
    await tamper(engine, statement, data=json.dumps(data), position=position)


async def delete_event(engine: AsyncEngine, position: int) -> None:
    await tamper(engine, "DELETE FROM events WHERE position = :position", position=position)
