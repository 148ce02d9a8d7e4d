"""The Temporal connection settings against a real TLS endpoint: a throwaway CA with server and client
certificates, one Temporal dev server, and in front of it two TLS-terminating proxies (ALPN `h2`, as gRPC
needs): one that only proves the server's identity, one that also requires a client certificate (mTLS).
The project's own `connect_temporal`, configured through the `GROEIRUIMTE_TEMPORAL_*` variables, gets
through with the right CA, server name and client certificate, and fails clearly otherwise.

That an API key travels as `authorization: Bearer …` with `temporal-namespace` metadata stays with
tests/unit/test_temporal_connect.py: seeing it on the wire needs a gRPC server, and grpcio is not
installed. Here an API key has to switch TLS on by itself and get through."""

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client, WorkflowExecutionStatus

from services.binaries import find_binary
from services.settings import Settings
from services.temporal import TemporalConnectionError, connect_temporal
from tests.e2e.conftest import free_port
from tests.e2e.tls_support import SERVER_NAME, Pki, TlsProxy, make_pki, server_context

pytestmark = pytest.mark.e2e
STARTUP_SECONDS = 60
CONNECT_SECONDS = 30


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
