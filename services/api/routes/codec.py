"""Temporal's remote codec protocol, so an authorised operator sees decoded histories in the Temporal UI:
`POST /codec/decode` and `/codec/encode` with `{"payloads": [...]}` (protobuf JSON) both ways.

Only admins and auditors (their own bearer token, which the Temporal UI passes along); every use is
logged. A payload that does not decrypt here (a retired key) comes back as it was sent.
"""

import json
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from services.access import Capability, require
from services.api.deps import current_user
from services.api.problems import BadRequestError
from services.auth import Principal, Role
from services.payload_codec import EncryptionCodec, PayloadDecryptionError

router = APIRouter(prefix="/codec", tags=["operations"], include_in_schema=False)
log = logging.getLogger("groeiruimte.codec")


async def codec_user(request: Request) -> Principal:
    """The caller's token; in development with `codec_development_open` (set by `make run`), the dev
    server's Temporal UI, which has no sign-in and so sends no token, decodes as a local operator."""
    settings = request.app.state.container.settings
    open_in_development = settings.environment == "development" and settings.codec_development_open
    if open_in_development and "authorization" not in request.headers:
        return Principal(sub="temporal-ui (development)", org="beheer", roles=frozenset({Role.ADMIN}))
    return await current_user(request)


CodecUser = Annotated[Principal, Depends(codec_user)]


@router.post("/decode")
async def decode(request: Request, user: CodecUser) -> Response:
    """The payloads decrypted (those this codec cannot decrypt unchanged)."""
    require(user, Capability.DECODE_PAYLOADS)
    payloads = await _payloads(request)
    codec = _codec(request)
    decoded = [_decoded(codec, payload) for payload in payloads]
    _log_use(request, user.sub, "decode", len(decoded))
    return _answer(decoded)


@router.post("/encode")
async def encode(request: Request, user: CodecUser) -> Response:
    """The payloads encrypted with the active key."""
    require(user, Capability.DECODE_PAYLOADS)
    payloads = await _payloads(request)
    encoded = await _codec(request).encode(payloads)
    _log_use(request, user.sub, "encode", len(encoded))
    return _answer(encoded)


def _codec(request: Request) -> EncryptionCodec:
    codec: EncryptionCodec = request.app.state.payload_codec
    return codec


def _decoded(codec: EncryptionCodec, payload: Payload) -> Payload:
    try:
        return codec.decrypt(payload)
    except PayloadDecryptionError:
        return payload


async def _payloads(request: Request) -> list[Payload]:
    try:
        parsed = json_format.Parse(await request.body(), Payloads())
    except (json_format.ParseError, UnicodeDecodeError) as error:
        raise BadRequestError('the body must be {"payloads": [...]} in protobuf JSON', "payloads") from error
    return list(parsed.payloads)


def _answer(payloads: list[Payload]) -> Response:
    body = json_format.MessageToDict(Payloads(payloads=payloads))
    return JSONResponse(json.loads(json.dumps(body)))


def _log_use(request: Request, sub: str, action: str, count: int) -> None:
    namespace = request.headers.get("X-Namespace", "")
    log.info("codec %s of %d payload(s)", action, count, extra={"sub": sub, "namespace": namespace})
