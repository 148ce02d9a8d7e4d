"""The payload codec: AES-GCM per payload, key id in the metadata, rotation, pass-through of payloads
from before the codec, and refusal of altered payloads or unknown keys."""

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from events.details import Company
from services.payload_codec import ENCODING, KEY_ID, EncryptionCodec, PayloadDecryptionError
from services.settings import Settings
from services.temporal import data_converter

OLD, NEW = os.urandom(32), os.urandom(32)
SECRET = "Geheim Kwantum B.V."


def plain(text: str = SECRET) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_encoded_payloads_carry_their_key_id_and_no_plaintext() -> None:
    (encoded,) = await EncryptionCodec({"2026-1": NEW}, "2026-1").encode([plain()])

    assert encoded.metadata["encoding"] == ENCODING
    assert encoded.metadata[KEY_ID] == b"2026-1"
    assert SECRET.encode() not in encoded.SerializeToString()


async def test_payloads_round_trip_and_two_encodings_differ() -> None:
    codec = EncryptionCodec({"k": NEW}, "k")
    first, second = await codec.encode([plain(), plain()])

    assert first.data != second.data  # a fresh nonce each time
    assert await codec.decode([first, second]) == [plain(), plain()]


async def test_after_rotation_old_payloads_decode_and_new_ones_use_the_new_key() -> None:
    (old_payload,) = await EncryptionCodec({"2025-2": OLD}, "2025-2").encode([plain()])
    rotated = EncryptionCodec({"2025-2": OLD, "2026-1": NEW}, "2026-1")

    assert await rotated.decode([old_payload]) == [plain()]
    assert (await rotated.encode([plain()]))[0].metadata[KEY_ID] == b"2026-1"


async def test_payloads_from_before_the_codec_pass_through() -> None:
    assert await EncryptionCodec({"k": NEW}, "k").decode([plain()]) == [plain()]


async def test_a_payload_of_a_retired_key_is_refused_with_the_key_named() -> None:
    (encoded,) = await EncryptionCodec({"2025-2": OLD}, "2025-2").encode([plain()])
    with pytest.raises(PayloadDecryptionError, match="2025-2"):
        await EncryptionCodec({"2026-1": NEW}, "2026-1").decode([encoded])


async def test_an_altered_payload_or_a_swapped_key_id_is_refused() -> None:
    codec = EncryptionCodec({"a": OLD, "b": NEW}, "a")
    (encoded,) = await codec.encode([plain()])
    tampered = Payload(metadata=encoded.metadata, data=encoded.data[:-1] + bytes([encoded.data[-1] ^ 1]))
    relabelled = Payload(metadata={**encoded.metadata, KEY_ID: b"b"}, data=encoded.data)
    for payload in (tampered, relabelled):
        with pytest.raises(PayloadDecryptionError):
            await codec.decode([payload])


async def test_the_converter_of_the_settings_encrypts_values_and_failures() -> None:
    key = base64.b64encode(NEW).decode()
    converter = data_converter(Settings(_env_file=None, payload_keys={"p": key}, payload_key_id="p"))
    (payload,) = await converter.encode([Company(name=SECRET)])

    assert SECRET.encode() not in payload.SerializeToString()
    assert await converter.decode([payload], [Company]) == [Company(name=SECRET)]
    failure = Failure()
    await converter.encode_failure(RuntimeError(f"could not reach {SECRET}"), failure)

    assert SECRET.encode() not in failure.SerializeToString()
    assert SECRET in str(await converter.decode_failure(failure))
