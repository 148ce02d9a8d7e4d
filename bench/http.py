"""A lean HTTP/1.1 load client: keep-alive GETs over asyncio streams, one connection per client.

httpx spends about 4 ms of CPU per request on this class of machine: with 20 clients the load generator,
not the API, would be what is measured. This client does only what a GET with a JSON answer needs
(Content-Length bodies, no chunking, a new connection when an answer says `Connection: close`) for a
small fraction of that.
"""

import asyncio
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

UrlFor = Callable[[int], str]


class HttpError(Exception):
    """An answer other than 200, or one this client cannot read."""


class Connection:
    """One keep-alive connection that sends GET requests with fixed headers, reopened after an answer
    that closes it (as a browser or a proxy's pool would)."""

    def __init__(self, host: str, port: int, headers: bytes) -> None:
        self._host, self._port, self._headers = host, port, headers
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.reopened = 0

    @classmethod
    async def open(cls, base_url: str, token: str) -> "Connection":
        parts = urlsplit(base_url)
        headers = f"Host: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        connection = cls(parts.hostname or "127.0.0.1", parts.port or 80, headers)
        connection._streams = await asyncio.open_connection(connection._host, connection._port)
        return connection

    async def get(self, path: str) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
            self.reopened += 1
        reader, writer = self._streams
        writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\n" + self._headers)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, closing = 0, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise HttpError("chunked answers are not supported by this client")
            elif name == b"connection":
                closing = value.strip().lower() == b"close"
        body = await reader.readexactly(length)
        if closing:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            await writer.wait_closed()


@dataclass
class Load:
    """Seconds per request; a request cut off at the hard deadline counts with the time it had taken."""

    samples: list[float] = field(default_factory=list)
    cut_off: int = 0


async def closed_loop(
    base_url: str, token: str, url_for: UrlFor, total: int, clients: int, seconds: float
) -> Load:
    """Up to `total` requests from `clients` clients, each waiting for its answer before the next.

    No request starts after `seconds`, and any still unanswered after twice that is cut off, so an
    endpoint that takes seconds per request cannot hold up the suite (its p99 is then a lower bound).
    """
    started = time.perf_counter()
    last_start, cut_off = started + seconds, started + 2 * seconds
    counter = (index for index in range(total) if index < clients or time.perf_counter() < last_start)
    load = Load()
    connections = [await Connection.open(base_url, token) for _ in range(clients)]
    # No garbage collection in this process while it measures (as `timeit` does): a full collection of
    # the benchmark's heap takes ~0.1 s here, stalls every client at once and would be counted as the
    # server's latency. What the loop allocates is freed by reference counting, any cycle afterwards.
    gc.disable()
    try:
        await asyncio.gather(*(_client(c, url_for, counter, load, cut_off) for c in connections))
    finally:
        gc.enable()
        for connection in connections:
            await connection.close()
    return load


async def _client(
    connection: Connection, url_for: UrlFor, counter: Iterator[int], load: Load, cut_off: float
) -> None:
    for index in counter:
        path = url_for(index)
        started = time.perf_counter()
        try:
            status, body = await asyncio.wait_for(connection.get(path), max(cut_off - started, 0.001))
        except TimeoutError:
            load.samples.append(time.perf_counter() - started)
            load.cut_off += 1
            return  # the connection is mid-answer: this client is done
        load.samples.append(time.perf_counter() - started)
        if status != 200:
            raise HttpError(f"GET {path} answered {status}: {body[:300]!r}")
