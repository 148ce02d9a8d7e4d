"""Contact persons: their personal data travels and is stored only sealed under a key of their own.

The domain never sees a contact person's name, e-mail or phone in plain text: the service layer seals
them (AES-GCM, services/persons.py) before a command is sent, and opens them when someone who may see
the company's identity reads the lead. Erasing a person (GDPR art. 17) deletes the key; the sealed
bytes stay in the log, so its hash chain still verifies, but nobody can read them any more.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# What is sealed: the person's own data. The company (name, KvK, website) is business data under NDA
# and is not erased this way.
PERSONAL_FIELDS = ("name", "email", "phone", "job_title")
MAX_CONTACTS_PER_LEAD = 50

Base64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/=]+$", max_length=8000)]


class SealedPersonalData(BaseModel):
    """A contact person's personal data as ciphertext; the key id is the person's id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    algorithm: str = "AES-256-GCM"
    nonce: Annotated[Base64, Field(min_length=16, max_length=24)]
    ciphertext: Base64
