"""The partner registry: organisations the taskforce asks, with contacts and webhook subscription."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from events.details import OrgSlug
from events.reference import OrganisationKind, Region
from services.persistence.tables import partners


class PartnerUpdate(BaseModel):
    """What an admin sets for a partner; the webhook secret is write-only."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: OrganisationKind
    region: Region | None = None
    emails: list[EmailStr] = Field(default_factory=list, max_length=20)
    webhook_url: HttpUrl | None = None
    webhook_secret: Annotated[str, Field(min_length=24, max_length=200)] | None = None
    active: bool = True


class Partner(BaseModel):
    """A partner as the registry holds it."""

    partner_id: OrgSlug
    name: str
    kind: OrganisationKind
    region: Region | None
    emails: list[str]
    webhook_url: str | None
    webhook_secret: str | None = Field(default=None, exclude=True)
    active: bool

    @property
    def has_webhook(self) -> bool:
        return bool(self.webhook_url and self.webhook_secret)


class PartnerRegistry:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, partner_id: str) -> Partner | None:
        async with self._engine.connect() as connection:
            row = (
                await connection.execute(select(partners).where(partners.c.partner_id == partner_id))
            ).first()
        return None if row is None else Partner.model_validate(dict(row._mapping))

    async def list(self) -> list[Partner]:
        async with self._engine.connect() as connection:
            rows = (await connection.execute(select(partners).order_by(partners.c.partner_id))).all()
        return [Partner.model_validate(dict(row._mapping)) for row in rows]

    async def put(self, partner_id: str, update: PartnerUpdate) -> tuple[Partner, bool]:
        """Create or replace a partner; True when it was created. A missing secret keeps the old one."""
        existing = await self.get(partner_id)
        values = update.model_dump(mode="json")
        if update.webhook_secret is None and existing is not None:
            values["webhook_secret"] = existing.webhook_secret
        values["updated_at"] = datetime.now(UTC)
        async with self._engine.begin() as connection:
            if existing is None:
                await connection.execute(partners.insert().values(partner_id=partner_id, **values))
            else:
                await connection.execute(
                    partners.update().where(partners.c.partner_id == partner_id).values(**values)
                )
        partner = await self.get(partner_id)
        assert partner is not None
        return partner, existing is None
