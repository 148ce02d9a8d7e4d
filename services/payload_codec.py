"""Temporal never sees plaintext company data: every payload is encrypted with AES-GCM before it leaves
the process, and failure messages are moved into encoded attributes first.

Each encrypted payload names its key in its metadata (`encryption-key-id`), so keys rotate: the active
key encrypts, every configured key decrypts. A payload without the `binary/encrypted` encoding was
written before the codec existed and passes through unchanged, so old histories still replay.
"""

import dataclasses
import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadDecryptionError(Exception):
    """An encrypted payload whose key is not configured, or that was altered."""


class EncryptionCodec(PayloadCodec):
    """AES-GCM over the serialised payload; the key id is bound to the ciphertext as associated data."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ValueError(f"the active payload key {active_key_id!r} is not configured")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._active = active_key_id

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self._active.encode()
        sealed = self._ciphers[self._active].encrypt(nonce, payload.SerializeToString(), key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload; one that was never encrypted comes back as it is."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"")
        cipher = self._ciphers.get(key_id.decode(errors="replace"))
        if cipher is None:
            raise PayloadDecryptionError(f"no payload key {key_id.decode(errors='replace')!r} is configured")
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id)
        except (InvalidTag, ValueError) as error:
            raise PayloadDecryptionError("the payload does not decrypt with its key") from error
        return Payload.FromString(plain)


def encrypting_converter(codec: EncryptionCodec) -> DataConverter:
    """The pydantic data converter with the codec, and failures' messages and traces encoded too."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
