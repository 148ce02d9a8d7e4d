"""The Temporal connection settings against a real TLS endpoint: a throwaway CA with server and client
certificates, one Temporal dev server, and in front of it two TLS-terminating proxies (ALPN `h2`, as gRPC
needs): one that only proves the server's identity, one that also requires a client certificate (mTLS).
The project's own `connect_temporal`, configured through the `GROEIRUIMTE_TEMPORAL_*` variables, gets
through with the right CA, server name and client certificate, and fails clearly otherwise.

That an API key travels as `authorization: Bearer …` with `temporal-namespace` metadata stays with
tests/unit/test_temporal_connect.py: seeing it on the wire needs a gRPC server, and grpcio is not
installed. Here an API key has to switch TLS on by itself and get through."""

import asyncio
import contextlib
import os
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client, WorkflowExecutionStatus

from services.binaries import find_binary
from services.settings import Settings
from services.temporal import TemporalConnectionError, connect_temporal
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e
SERVER_NAME = "temporal.groeiruimte.test"
STARTUP_SECONDS = 60
CONNECT_SECONDS = 30


# --- a throwaway PKI -------------------------------------------------------------------------------


@dataclass
class Authority:
    """A certificate authority that issues certificates into `folder` as PEM files."""

    name: str
    folder: Path
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))

    def __post_init__(self) -> None:
        ca = x509.BasicConstraints(ca=True, path_length=0)
        signing = x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False,
        )  # fmt: skip
        self.certificate = self._sign(self.name, self.key.public_key(), [ca, signing])
        self.path = self.folder / f"{self.name}.pem"
        self.path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, usage: x509.ObjectIdentifier, dns_name: str = "") -> tuple[Path, Path]:
        """A certificate for `name` (server or client `usage`) and its key; the paths of both."""
        key = ec.generate_private_key(ec.SECP256R1())
        extensions: list[x509.ExtensionType] = [
            x509.BasicConstraints(ca=False, path_length=None),
            x509.ExtendedKeyUsage([usage]),
        ]
        if dns_name:
            extensions.append(x509.SubjectAlternativeName([x509.DNSName(dns_name)]))
        certificate = self._sign(name, key.public_key(), extensions)
        certificate_path, key_path = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return certificate_path, key_path

    def _sign(
        self, name: str, public_key: ec.EllipticCurvePublicKey, extensions: list[x509.ExtensionType]
    ) -> x509.Certificate:
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=isinstance(extension, x509.BasicConstraints))
        return builder.sign(self.key, hashes.SHA256())


@dataclass
class Pki:
    ca: Authority
    other_ca: Authority  # trusted by nobody here
    server: tuple[Path, Path]
    client: tuple[Path, Path]
    stranger: tuple[Path, Path]  # a client certificate from the other CA


def make_pki(folder: Path) -> Pki:
    ca, other_ca = Authority("groeiruimte-test-ca", folder), Authority("someone-elses-ca", folder)
    return Pki(
        ca,
        other_ca,
        server=ca.issue("frontend", ExtendedKeyUsageOID.SERVER_AUTH, dns_name=SERVER_NAME),
        client=ca.issue("worker", ExtendedKeyUsageOID.CLIENT_AUTH),
        stranger=other_ca.issue("stranger", ExtendedKeyUsageOID.CLIENT_AUTH),
    )


# --- a TLS-terminating TCP proxy in front of the dev server ------------------------------------------


class TlsConnection:
    """A client's TLS connection, terminated by hand (memory BIOs) so that a refused handshake still sends
    the client its alert; asyncio's own TLS transport drops it and the client sees only a closed socket."""

    def __init__(self, context: ssl.SSLContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.reader, self.writer = reader, writer

    async def handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._flush()
                if not await self._fill():
                    raise ConnectionResetError("the client left during the handshake") from None
        await self._flush()

    async def refuse(self) -> None:
        """Send the alert that says why the handshake failed, and hang up once the client has read it."""
        with contextlib.suppress(ConnectionError, TimeoutError):
            await self._flush()
            self.writer.write_eof()
            # Closing with the client's first request still unread would reset the connection, and the
            # client would report the reset instead of the alert.
            await asyncio.wait_for(self.reader.read(), 5)
        self.writer.close()

    async def receive(self) -> bytes:
        """The client's next plaintext; b"" once it has gone."""
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                await self._flush()
                if not await self._fill():
                    return b""
            except ssl.SSLZeroReturnError:
                return b""

    async def send(self, plaintext: bytes) -> None:
        self.tls.write(plaintext)
        await self._flush()

    async def _fill(self) -> bool:
        data = await self.reader.read(65536)
        self._incoming.write(data)
        return bool(data)

    async def _flush(self) -> None:
        if pending := self._outgoing.read():
            self.writer.write(pending)
            await self.writer.drain()


class TlsProxy:
    """Terminates TLS on a free port and pipes the plaintext to the dev server, on a thread of its own;
    records each accepted connection's ALPN protocol and each refused handshake's reason."""

    def __init__(self, context: ssl.SSLContext, upstream_port: int) -> None:
        self.context, self.upstream_port, self.port = context, upstream_port, free_port()
        self.protocols: list[str | None] = []
        self.refusals: list[str] = []
        self._listening = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._listening.wait(10), "the TLS proxy did not start"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    async def _main(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self._listening.set()
        await self._stopping.wait()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = TlsConnection(self.context, reader, writer)
        try:
            await client.handshake()
        except (ssl.SSLError, ConnectionError) as refusal:
            self.refusals.append(str(refusal))
            await client.refuse()
            return
        self.protocols.append(client.tls.selected_alpn_protocol())
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        await asyncio.gather(_to_upstream(client, upstream_writer), _to_client(upstream_reader, client))


async def _to_upstream(client: TlsConnection, upstream: asyncio.StreamWriter) -> None:
    try:
        while plaintext := await client.receive():
            upstream.write(plaintext)
            await upstream.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        upstream.close()


async def _to_client(upstream: asyncio.StreamReader, client: TlsConnection) -> None:
    try:
        while plaintext := await upstream.read(65536):
            await client.send(plaintext)
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        client.writer.close()


def server_context(pki: Pki, *, require_client_certificate: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*pki.server)
    context.set_alpn_protocols(["h2"])  # gRPC clients insist on HTTP/2 by ALPN
    if require_client_certificate:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki.ca.path)
    return context


# --- fixtures ----------------------------------------------------------------------------------------


@dataclass
class Endpoints:
    pki: Pki
    tls: TlsProxy  # proves the server's identity
    mtls: TlsProxy  # also requires a client certificate from the CA


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """One Temporal dev server (plaintext, in memory) for the module; its frontend port."""
    port, log_path = free_port(), tmp_path_factory.mktemp("htls_temporal") / "temporal.log"
    command = [
        str(find_binary("temporal")), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
        "--port", str(port), "--log-level", "warn",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, server, log_path)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _wait_for_port(port: int, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the Temporal dev server exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"the Temporal dev server did not listen on {port} within {STARTUP_SECONDS}s")


@pytest.fixture(scope="module")
def endpoints(tmp_path_factory: pytest.TempPathFactory, dev_server: int) -> Iterator[Endpoints]:
    pki = make_pki(tmp_path_factory.mktemp("htls_pki"))
    tls = TlsProxy(server_context(pki, require_client_certificate=False), dev_server)
    mtls = TlsProxy(server_context(pki, require_client_certificate=True), dev_server)
    tls.start()
    mtls.start()
    try:
        yield Endpoints(pki, tls, mtls)
    finally:
        tls.stop()
        mtls.stop()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean slate of GROEIRUIMTE_TEMPORAL_* variables, set by the test as an operator would."""
    for name in list(os.environ):
        if name.startswith("GROEIRUIMTE_TEMPORAL_"):
            monkeypatch.delenv(name)
    yield monkeypatch


def configured(environment: pytest.MonkeyPatch, proxy: TlsProxy, **variables: object) -> Settings:
    """Settings read from `GROEIRUIMTE_TEMPORAL_<NAME>` variables, pointed at `proxy`."""
    environment.setenv("GROEIRUIMTE_TEMPORAL_ADDRESS", f"127.0.0.1:{proxy.port}")
    for name, value in variables.items():
        environment.setenv(f"GROEIRUIMTE_TEMPORAL_{name.upper()}", str(value))
    return Settings(_env_file=None)


async def connect(settings: Settings) -> Client:
    return await asyncio.wait_for(connect_temporal(settings), CONNECT_SECONDS)


async def connection_error(settings: Settings) -> str:
    """The error `connect_temporal` fails with, as an operator reads it."""
    with pytest.raises(TemporalConnectionError) as failure:
        await connect(settings)
    assert str(failure.value).startswith(f"cannot connect to Temporal at {settings.temporal_address} (")
    return str(failure.value)


@pytest.fixture
async def started_workflows() -> AsyncIterator[list[tuple[Client, str]]]:
    started: list[tuple[Client, str]] = []
    yield started
    for client, workflow_id in started:
        await client.get_workflow_handle(workflow_id).terminate("test over")


# --- the tests ---------------------------------------------------------------------------------------


async def test_tls_with_the_servers_ca_and_name_reaches_temporal_and_starts_a_workflow(
    endpoints: Endpoints, environment: pytest.MonkeyPatch, started_workflows: list[tuple[Client, str]]
) -> None:
    settings = configured(
        environment, endpoints.tls, tls="true", tls_server_ca_path=endpoints.pki.ca.path,
        tls_server_name=SERVER_NAME,
    )  # fmt: skip

    client = await connect(settings)

    info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
    assert info.server_version
    workflow_id = f"htls-{uuid.uuid4()}"
    handle = await client.start_workflow("NobodyRunsThis", "hello", id=workflow_id, task_queue="htls")
    started_workflows.append((client, workflow_id))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert endpoints.tls.protocols and set(endpoints.tls.protocols) == {"h2"}


@pytest.mark.parametrize(
    ("server_name", "reason"),
    [
        ("elsewhere.groeiruimte.test", "NotValidForName"),
        ("", "NotValidForName"),  # the certificate names no IP address: 127.0.0.1 is not in it
    ],
)
async def test_tls_refuses_a_server_whose_certificate_is_for_another_name(
    endpoints: Endpoints, environment: pytest.MonkeyPatch, server_name: str, reason: str
) -> None:
    settings = configured(
        environment, endpoints.tls, tls="true", tls_server_ca_path=endpoints.pki.ca.path,
        tls_server_name=server_name,
    )  # fmt: skip

    assert reason in await connection_error(settings)


async def test_tls_refuses_a_server_whose_certificate_another_ca_signed(
    endpoints: Endpoints, environment: pytest.MonkeyPatch
) -> None:
    settings = configured(
        environment, endpoints.tls, tls="true", tls_server_ca_path=endpoints.pki.other_ca.path,
        tls_server_name=SERVER_NAME,
    )  # fmt: skip

    error = await connection_error(settings)

    assert f"TLS with CA {endpoints.pki.other_ca.path}" in error
    assert "UnknownIssuer" in error


async def test_an_api_key_with_the_systems_cas_refuses_a_private_ca_and_never_shows_the_key(
    endpoints: Endpoints, environment: pytest.MonkeyPatch
) -> None:
    settings = configured(
        environment, endpoints.tls, api_key="htls-key-0123456789", tls_server_name=SERVER_NAME
    )

    error = await connection_error(settings)

    assert "(namespace default, TLS with the system's CAs, server name" in error
    assert "UnknownIssuer" in error
    assert "API key" in error and "htls-key-0123456789" not in error


async def test_mtls_refuses_a_client_without_a_certificate(
    endpoints: Endpoints, environment: pytest.MonkeyPatch
) -> None:
    settings = configured(
        environment, endpoints.mtls, tls="true", tls_server_ca_path=endpoints.pki.ca.path,
        tls_server_name=SERVER_NAME,
    )  # fmt: skip

    error = await connection_error(settings)

    assert f"server name {SERVER_NAME}, no client certificate or API key)" in error
    # The SDK reports the server's alert, or now and then only that the connection closed.
    assert "CertificateRequired" in error or "connection closed" in error
    assert any("PEER_DID_NOT_RETURN_A_CERTIFICATE" in refusal for refusal in endpoints.mtls.refusals)


async def test_mtls_with_the_client_certificate_and_key_reaches_temporal(
    endpoints: Endpoints, environment: pytest.MonkeyPatch, started_workflows: list[tuple[Client, str]]
) -> None:
    certificate, key = endpoints.pki.client
    settings = configured(
        environment, endpoints.mtls, tls_client_cert_path=certificate, tls_client_key_path=key,
        tls_server_ca_path=endpoints.pki.ca.path, tls_server_name=SERVER_NAME,
    )  # fmt: skip

    client = await connect(settings)

    workflow_id = f"htls-{uuid.uuid4()}"
    handle = await client.start_workflow("NobodyRunsThis", "hello", id=workflow_id, task_queue="htls")
    started_workflows.append((client, workflow_id))
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert "h2" in endpoints.mtls.protocols


async def test_mtls_refuses_a_client_certificate_from_another_ca(
    endpoints: Endpoints, environment: pytest.MonkeyPatch
) -> None:
    certificate, key = endpoints.pki.stranger
    settings = configured(
        environment, endpoints.mtls, tls_client_cert_path=certificate, tls_client_key_path=key,
        tls_server_ca_path=endpoints.pki.ca.path, tls_server_name=SERVER_NAME,
    )  # fmt: skip

    error = await connection_error(settings)

    assert f"client certificate {certificate})" in error
    assert "UnknownCA" in error or "connection closed" in error
    assert any("CERTIFICATE_VERIFY_FAILED" in refusal for refusal in endpoints.mtls.refusals)


async def test_an_api_key_alone_switches_tls_on_and_gets_through(
    endpoints: Endpoints, environment: pytest.MonkeyPatch
) -> None:
    settings = configured(
        environment, endpoints.tls, api_key="htls-key-0123456789",
        tls_server_ca_path=endpoints.pki.ca.path, tls_server_name=SERVER_NAME,
    )  # fmt: skip

    connections_before = len(endpoints.tls.protocols)

    client = await connect(settings)

    # The dev server ignores the key; what matters here is that it took TLS to get through the proxy.
    assert (await client.workflow_service.get_system_info(GetSystemInfoRequest())).server_version
    assert len(endpoints.tls.protocols) > connections_before
    assert client.api_key == "htls-key-0123456789"
    assert client.rpc_metadata == {"temporal-namespace": "default"}
