"""The composition root: the one place concrete adapters are wired together."""

from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from services.audit.access_log import GroupedWriter
from services.lead_commands import LeadCommandService
from services.notifications.deliverer import Deliverer
from services.notifications.email import SmtpMailer
from services.notifications.webhooks import WebhookSender
from services.partners import PartnerRegistry
from services.persistence.engine import create_engine
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from services.temporal import connect_temporal


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    store: SqlEventStore
    temporal: Client | None
    commands: LeadCommandService | None
    registry: PartnerRegistry
    access_log: GroupedWriter = field(init=False)

    def __post_init__(self) -> None:
        self.access_log = GroupedWriter(self.engine)  # group commits of the API's logged reads

    async def close(self) -> None:
        await self.store.close()
        await self.engine.dispose()


async def build_container(settings: Settings, *, with_temporal: bool = True) -> Container:
    """Engine, event store and (for the API and worker) a Temporal client."""
    engine = create_engine(settings.effective_database_url, pool_size=settings.database_pool_size)
    store = SqlEventStore(engine)
    temporal = await connect_temporal(settings) if with_temporal else None
    commands = LeadCommandService(temporal, store, settings) if temporal else None
    return Container(settings, engine, store, temporal, commands, PartnerRegistry(engine))


def build_deliverer(settings: Settings, container: Container, http: httpx.AsyncClient) -> Deliverer:
    """The worker's notifier: SMTP mail and signed webhooks, recipients from the partner registry."""
    return Deliverer(
        settings,
        container.engine,
        container.store,
        container.registry,
        SmtpMailer(settings),
        WebhookSender(settings, http),
    )
