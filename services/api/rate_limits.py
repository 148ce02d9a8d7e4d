"""Rate limits per bearer token and per client IP: token buckets in this process (per API replica).

Each bucket holds a minute's worth of requests and refills continuously; a request takes one token from
its token's bucket and one from its IP's. An empty bucket answers 429 with `Retry-After` (seconds until
a token is back). Tokens are keyed by a hash, never kept as such.
"""

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from services.api.problems import problem
from services.settings import Settings

MAX_BUCKETS = 50_000


@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Buckets of `capacity` tokens refilled at `capacity` per minute, by key."""

    def __init__(self, capacity: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.rate = capacity / 60.0
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

    def wait(self, key: str) -> float:
        """Seconds until `key` may make a request (0: it may now, and its token is taken)."""
        now = self._clock()
        bucket = self._buckets.get(key) or Bucket(float(self.capacity), now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._remember(key, bucket)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _remember(self, key: str, bucket: Bucket) -> None:
        if key not in self._buckets and len(self._buckets) >= MAX_BUCKETS:
            # Forgetting the oldest bucket only ever gives a caller a full bucket again.
            self._buckets.pop(next(iter(self._buckets)))
        self._buckets[key] = bucket


class TrustedProxies:
    """Behind a load balancer every request comes from its address: the client is then the right-most
    X-Forwarded-For entry that is not a trusted proxy. Without trusted proxies the header is ignored
    (anyone could write it)."""

    def __init__(self, proxies: list[str]) -> None:
        self._networks = [ipaddress.ip_network(proxy, strict=False) for proxy in proxies]

    def client_ip(self, request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not self._is_trusted(peer):
            return peer
        hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return peer

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)


class RateLimiter:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_token = TokenBuckets(settings.rate_limit_per_token_per_minute, clock)
        self.per_ip = TokenBuckets(settings.rate_limit_per_ip_per_minute, clock)
        self.proxies = TrustedProxies(settings.trusted_proxies)

    def refusal(self, request: Request) -> Response | None:
        """A 429 problem when the caller's token or IP is out of requests; None otherwise."""
        waits = [self.per_ip.wait(self.proxies.client_ip(request))]
        authorization = request.headers.get("authorization")
        if authorization:
            waits.append(self.per_token.wait(hashlib.sha256(authorization.encode()).hexdigest()))
        wait = max(waits)
        if wait <= 0:
            return None
        response = problem(
            request, 429, "too-many-requests", "Too many requests", "slow down and retry after a moment"
        )
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
