"""A local OIDC provider for tests: signs access tokens and serves its JWKS over real HTTP (127.0.0.1)."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://login.test.example/realms/groeiruimte"
AUDIENCE = "groeiruimte-api"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: Any

    def public_jwk(self) -> dict[str, Any]:
        maker = ECAlgorithm if self.algorithm.startswith("ES") else RSAAlgorithm
        jwk: dict[str, Any] = json.loads(maker.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": self.algorithm}


def new_key(algorithm: str = "RS256") -> SigningKey:
    private: Any = (
        ec.generate_private_key(ec.SECP256R1())
        if algorithm.startswith("ES")
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    return SigningKey(f"key-{uuid.uuid4().hex[:8]}", algorithm, private)


@dataclass
class LocalProvider:
    """The keys it publishes, how often its JWKS was fetched, and where."""

    keys: list[SigningKey] = field(default_factory=lambda: [new_key()])
    fetches: int = 0
    jwks_url: str = ""

    def rotate(self, algorithm: str = "RS256") -> SigningKey:
        """Publish a new key and stop publishing the old ones."""
        self.keys = [new_key(algorithm)]
        return self.keys[0]

    def token(
        self, *, roles: list[str], org: str | None, key: SigningKey | None = None, **overrides: Any
    ) -> str:
        key = key or self.keys[0]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"user-{org}",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "org": org,
            "realm_access": {"roles": roles},
        }
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, key.private, algorithm=key.algorithm, headers={"kid": key.kid})


@contextmanager
def running_provider() -> Iterator[LocalProvider]:
    """The provider with its JWKS served at http://127.0.0.1:<port>/jwks until the block ends."""
    provider = LocalProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.fetches += 1
            body = json.dumps({"keys": [key.public_jwk() for key in provider.keys]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.jwks_url = f"http://127.0.0.1:{server.server_address[1]}/jwks"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
