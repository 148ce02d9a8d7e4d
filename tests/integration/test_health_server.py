"""The worker's and projector's health server over a real socket: its answers to good and bad requests."""

import asyncio

from services.health import Probes, health_server
from tests.e2e.conftest import free_port


async def _ok() -> dict[str, object]:
    return {"running": True}


async def _not_ready() -> dict[str, object]:
    return {"database": False}


async def _exchange(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_probes_answer_200_or_503_and_bad_requests_get_their_http_error() -> None:
    port = free_port()
    async with health_server("127.0.0.1", port, Probes(live=_ok, ready=_not_ready)):
        live = await _exchange(port, b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        ready = await _exchange(port, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        posted = await _exchange(port, b"POST /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        unknown = await _exchange(port, b"GET /nowhere HTTP/1.1\r\n\r\n")
        too_large = await _exchange(port, b"GET /livez HTTP/1.1\r\nX-Padding: " + b"a" * 100_000)
        hung_up = await _exchange(port, b"GET /li")  # the server must survive a client that leaves
        again = await _exchange(port, b"GET /livez HTTP/1.1\r\n\r\n")
    assert live.startswith(b"HTTP/1.1 200") and b'"running": true' in live
    assert ready.startswith(b"HTTP/1.1 503")
    assert posted.startswith(b"HTTP/1.1 405") and unknown.startswith(b"HTTP/1.1 404")
    assert too_large.startswith(b"HTTP/1.1 431")
    assert hung_up == b"" or hung_up.startswith(b"HTTP/1.1 408")
    assert again.startswith(b"HTTP/1.1 200")
