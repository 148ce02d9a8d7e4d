"""Test support for real TLS: a throwaway PKI (CA, server and client certificates) and a TLS-terminating
TCP proxy (ALPN `h2`, optionally requiring a client certificate) in front of a plain endpoint."""

import asyncio
import contextlib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.e2e.conftest import free_port

SERVER_NAME = "temporal.groeiruimte.test"


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
