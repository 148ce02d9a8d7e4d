"""Contact persons' personal data, sealed under a key per person; erasing a person deletes the key.

`PersonVault.seal` encrypts a person's data (AES-256-GCM, the person's id bound as associated data)
before it goes into a command, so neither Temporal nor the event log ever holds it in plain text.
`keys_shown` gives the keys to decrypt with, for someone who may see the company's identity.
`shred` overwrites the key with NULL: the sealed bytes stay in the log and its hash chain still
verifies, but they can no longer be read (crypto-shredding). Keys live in `person_keys`, outside the
append-only log; database backups hold them too, so backups must expire within the erasure period
(docs/operations.md).
"""

import base64
import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from events.persons import SealedPersonalData
from events.state import ContactPerson, LeadState
from services.access import LeadParties
from services.persistence.engine import single_statements
from services.persistence.tables import events, person_keys

ERASED = "[erased]"
NONCE_BYTES = 12
KEY_BYTES = 32


class PersonalData(BaseModel):
    """What is known of a contact person: all of it personal data, all of it erasable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: Annotated[str, Field(max_length=40, pattern=r"^\+?[0-9 ()-]{6,40}$")] | None = None
    job_title: Annotated[str, Field(max_length=200)] | None = None


class ContactView(BaseModel):
    """A contact person as shown: the personal data, or `[erased]` in each field once erased."""

    person_id: UUID
    name: str
    email: str | None
    phone: str | None
    job_title: str | None
    erased: bool
    added_at: datetime
    erased_at: datetime | None = None


class PersonNotFoundError(Exception):
    """No contact person with this id (or a key row for a person never recorded)."""


class PersonVault:
    """Per-person keys in the database: seal, open, shred."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def seal(self, person_id: UUID, lead_id: UUID, data: PersonalData) -> SealedPersonalData:
        """Encrypt a person's data under their key, creating the key on first use."""
        return sealed_with(await self._key_for_sealing(person_id, lead_id), person_id, data)

    async def keys_shown(self, state: LeadState | LeadParties, *, identity: bool) -> dict[UUID, bytes]:
        """The keys to open the lead's contact persons with: none for those who may not see the
        company's identity, and none of persons whose erasure is recorded."""
        if not identity:
            return {}
        live = [c.person_id for c in state.contacts if c.erased_at is None]
        read_with_lead = state.keys if isinstance(state, LeadParties) else None
        if read_with_lead is not None:  # in the lead's own statement: no second query
            return {person: read_with_lead[person] for person in live if person in read_with_lead}
        return await self.keys(live)

    async def keys(self, person_ids: Iterable[UUID]) -> dict[UUID, bytes]:
        """The live keys of these persons (erased persons have none)."""
        ids = list(set(person_ids))
        if not ids:
            return {}
        query = select(person_keys.c.person_id, person_keys.c.key).where(
            person_keys.c.person_id.in_(ids), person_keys.c.key.is_not(None)
        )
        async with single_statements(self._engine).connect() as connection:
            return {row.person_id: row.key for row in await connection.execute(query)}

    async def lead_of(self, person_id: UUID) -> UUID:
        """The lead a person was recorded on."""
        query = select(person_keys.c.lead_id).where(person_keys.c.person_id == person_id)
        async with self._engine.connect() as connection:
            lead_id: UUID | None = (await connection.execute(query)).scalar_one_or_none()
        if lead_id is None:
            raise PersonNotFoundError("no contact person with this id")
        return lead_id

    async def shred(self, person_id: UUID, at: datetime | None = None) -> bool:
        """Delete the person's key for good; True when a key was deleted now, False if gone already."""
        statement = (
            update(person_keys)
            .where(person_keys.c.person_id == person_id, person_keys.c.key.is_not(None))
            .values(key=None, erased_at=at or datetime.now(UTC))
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount)

    async def shred_recorded_erasures(self) -> int:
        """Delete any key whose erasure is recorded in the log but was not deleted (the process stopped
        between recording and deleting); run at API start. Returns how many keys it deleted."""
        erased = select(events.c.data, events.c.recorded_at).where(events.c.type == "PersonalDataErased")
        async with self._engine.connect() as connection:
            recorded = [
                (UUID(row.data["person_id"]), row.recorded_at) for row in await connection.execute(erased)
            ]
        return sum([await self.shred(person_id, at) for person_id, at in recorded])

    async def _key_for_sealing(self, person_id: UUID, lead_id: UUID) -> bytes:
        row = await self._key_row(person_id)
        if row is None:
            with contextlib.suppress(IntegrityError):  # a concurrent retry created it first
                await self._insert_key(person_id, lead_id)
            row = await self._key_row(person_id)
        assert row is not None
        if row[0] != lead_id:
            raise PersonNotFoundError("this person id belongs to another lead")
        if row[1] is None:
            raise PersonNotFoundError("this person's data was erased")
        key: bytes = row[1]
        return key

    async def _key_row(self, person_id: UUID) -> tuple[UUID, bytes | None] | None:
        query = select(person_keys.c.lead_id, person_keys.c.key).where(person_keys.c.person_id == person_id)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return (row.lead_id, row.key) if row else None

    async def _insert_key(self, person_id: UUID, lead_id: UUID) -> None:
        values = {
            "person_id": person_id,
            "lead_id": lead_id,
            "key": AESGCM.generate_key(bit_length=KEY_BYTES * 8),
            "created_at": datetime.now(UTC),
        }
        async with self._engine.begin() as connection:
            await connection.execute(person_keys.insert().values(**values))


def sealed_with(
    key: bytes, person_id: UUID, data: PersonalData, *, nonce: bytes | None = None
) -> SealedPersonalData:
    """The person's data encrypted under their key, the person's id bound as associated data (a fresh
    random nonce unless one is given: a nonce must never be used twice with one key)."""
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    plain = data.model_dump_json(exclude_none=True).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plain, person_id.bytes)
    return SealedPersonalData(nonce=_b64(nonce), ciphertext=_b64(ciphertext))


def open_sealed(person_id: UUID, sealed: SealedPersonalData, key: bytes | None) -> PersonalData | None:
    """The person's data, or None when the key is gone (erased) or the bytes do not decrypt."""
    if key is None:
        return None
    try:
        plain = AESGCM(key).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext), person_id.bytes)
    except (InvalidTag, ValueError):
        return None
    return PersonalData.model_validate(json.loads(plain))


def personal_data_view(person_id: UUID, sealed: SealedPersonalData, key: bytes | None) -> dict[str, Any]:
    """The personal fields as a history shows them: opened, or each one `[erased]`."""
    data = open_sealed(person_id, sealed, key)
    if data is None:
        return {"name": ERASED, "email": ERASED, "phone": ERASED, "job_title": ERASED, "erased": True}
    return {**data.model_dump(), "erased": False}


def contact_views(contacts: Iterable[ContactPerson], keys: Mapping[UUID, bytes]) -> list[ContactView]:
    """The contacts with their data opened where the key is given and the person is not erased."""
    return [_view(c, None if c.erased_at else keys.get(c.person_id)) for c in contacts]


def _view(contact: ContactPerson, key: bytes | None) -> ContactView:
    fields = personal_data_view(contact.person_id, contact.sealed, key)
    return ContactView.model_validate(
        {
            **fields,
            "person_id": contact.person_id,
            "added_at": contact.added_at,
            "erased_at": contact.erased_at,
        }
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def with_personal_data(data: Mapping[str, Any], keys: Mapping[UUID, bytes] | None) -> dict[str, Any]:
    """A ContactPersonAdded event's data as a history shows it: `sealed` replaced by the opened fields
    (`[erased]` once the key is gone), or by null for those who may not see the identity (`keys` None)."""
    shown = {k: v for k, v in data.items() if k != "sealed"}
    if keys is None:
        return {**shown, "personal_data": None}
    person_id = UUID(str(data["person_id"]))
    sealed = SealedPersonalData.model_validate(data["sealed"])
    return {**shown, "personal_data": personal_data_view(person_id, sealed, keys.get(person_id))}
