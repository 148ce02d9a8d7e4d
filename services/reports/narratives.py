"""The qualitative text of a half-year (one coherent ecosystem; lessons learned), kept in every version.

Each save adds a version (table `report_narratives`, migration 0006_ui); a report shows the latest.
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import Column, Integer, PrimaryKeyConstraint, String, Table, Text, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.persistence.tables import metadata
from services.persistence.types import UtcDateTime

report_narratives = Table(
    "report_narratives",
    metadata,
    Column("period", String(16), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("ecosystem", Text(), nullable=False),
    Column("lessons", Text(), nullable=False),
    Column("written_at", UtcDateTime(), nullable=False),
    Column("written_by", String(200), nullable=False),
    PrimaryKeyConstraint("period", "version", name="pk_report_narratives"),
)

NarrativeText = Annotated[str, Field(max_length=20_000)]


class NarrativeConflictError(Exception):
    """Someone saved a newer version in the meantime."""


class NarrativeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ecosystem: NarrativeText = ""
    lessons: NarrativeText = ""
    based_on_version: int = Field(default=0, ge=0, description="The version this edit started from")


class NarrativePublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str
    version: int
    ecosystem: str
    lessons: str
    written_at: AwareDatetime | None
    written_by: str | None


def empty_narrative(period: str) -> NarrativePublic:
    return NarrativePublic(
        period=period, version=0, ecosystem="", lessons="", written_at=None, written_by=None
    )


async def latest_narrative(engine: AsyncEngine, period: str) -> NarrativePublic:
    n = report_narratives.c
    statement = select(report_narratives).where(n.period == period).order_by(n.version.desc()).limit(1)
    async with engine.connect() as connection:
        row = (await connection.execute(statement)).one_or_none()
    return empty_narrative(period) if row is None else NarrativePublic.model_validate(dict(row._mapping))


async def save_narrative(
    engine: AsyncEngine, period: str, update: NarrativeUpdate, written_by: str
) -> NarrativePublic:
    """Add the next version; refuses when the edit did not start from the latest version."""
    n = report_narratives.c
    async with engine.begin() as connection:
        current = (await connection.execute(select(func.max(n.version)).where(n.period == period))).scalar()
        if (current or 0) != update.based_on_version:
            raise NarrativeConflictError(
                f"version {current} was saved in the meantime; reload and edit again"
            )
        row = {
            "period": period,
            "version": update.based_on_version + 1,
            "ecosystem": update.ecosystem,
            "lessons": update.lessons,
            "written_at": datetime.now(UTC),
            "written_by": written_by,
        }
        try:
            await connection.execute(insert(report_narratives).values(**row))
        except IntegrityError as error:
            raise NarrativeConflictError("another version was saved at the same moment") from error
    return NarrativePublic.model_validate(row)
