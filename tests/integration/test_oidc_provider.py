"""The API and the UI's sign-in against a real OpenID Connect provider (panva's certified `oidc-provider`
on Node.js, tests/oidc_provider/), not a stand-in: client credentials, the authorization code flow with
PKCE driven over HTTP, a token for another API, and a key rotation at the provider.

`RealProvider` is also what the browser tests (tests/browser/test_oidc_signin.py) sign in at. Without
Node.js or the provider's packages these tests skip with how to enable them; with
GROEIRUIMTE_REQUIRE_BROWSER=1 (CI) they fail instead.
"""

import asyncio
import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from services.api.app import create_app
from services.container import Container
from services.partners import PartnerRegistry
from services.persistence.event_store import SqlEventStore
from services.settings import Settings
from tests.e2e.conftest import free_port

PROVIDER_DIR = Path(__file__).parents[1] / "oidc_provider"
REQUIRE = os.environ.get("GROEIRUIMTE_REQUIRE_BROWSER") == "1"
HOW_TO_ENABLE = (
    "install Node.js (>= 20.19) with npm and run `make tests/oidc_provider/node_modules` "
    "(npm ci in tests/oidc_provider/)"
)
STARTUP_SECONDS = 20

RESOURCE = "urn:groeiruimte:api"  # the resource indicator (RFC 8707) the UI asks tokens for
AUDIENCE = "groeiruimte-api"
OTHER_RESOURCE, OTHER_AUDIENCE = "urn:elders:api", "elders-api"
ROLES_CLAIM = "realm_access.roles"
UI_CLIENT_ID = "groeiruimte-ui"
PUBLIC_UI_CLIENT_ID = "groeiruimte-ui-publiek"
SERVICE_CLIENT_ID, PARTNER_SERVICE_CLIENT_ID = "groeiruimte-export", "gelderland-koppeling"
# Login names at the provider's login page, with what the API should make of them.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "anna.devries": {"roles": ["taskforce", "offline_access"], "org": "bom", "name": "Anna de Vries"},
    "cor.coordinator": {"roles": ["coordinator"], "org": "nfia", "name": "Cor Dinator"},
    "zonder.rol": {"roles": ["kantine"], "org": "bom", "name": "Zonder Rol"},
}
SERVICE_CLIENTS = {
    SERVICE_CLIENT_ID: {"roles": ["auditor"], "org": "adr"},
    PARTNER_SERVICE_CLIENT_ID: {"roles": ["partner"], "org": "provincie-gelderland"},
}


def require_node_provider() -> None:
    """Skip (or, under GROEIRUIMTE_REQUIRE_BROWSER=1, fail) when the provider cannot run here."""
    missing = []
    if shutil.which("node") is None:
        missing.append("`node` is not on PATH")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        missing.append(f"{PROVIDER_DIR / 'node_modules'} is not installed")
    if not missing:
        return
    message = f"real OIDC provider tests: {' and '.join(missing)}; {HOW_TO_ENABLE}"
    if REQUIRE:
        pytest.fail(f"GROEIRUIMTE_REQUIRE_BROWSER=1 but {message}")
    pytest.skip(message)


@dataclass
class RealProvider:
    """oidc-provider running on 127.0.0.1:<port>; `restart` brings it back with a new signing key."""

    folder: Path
    redirect_uris: list[str]
    port: int = field(default_factory=free_port)
    client_secrets: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def log_path(self) -> Path:
        return self.folder / "oidc-provider.log"

    def start(self) -> None:
        config = self.folder / "oidc-provider.json"
        config.write_text(json.dumps(self._configuration()))
        self.process = subprocess.Popen(
            ["node", str(PROVIDER_DIR / "server.js"), str(config)],
            cwd=PROVIDER_DIR,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"oidc-provider exited early:\n{self.log_path.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"oidc-provider did not answer in {STARTUP_SECONDS}s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        """A new process on the same port: the same issuer and clients, a new signing key."""
        self.stop()
        self.start()

    def secret(self, client_id: str) -> str:
        return self.client_secrets.setdefault(client_id, secrets.token_urlsafe(24))

    def client_credentials(self, client_id: str, resource: str = RESOURCE) -> httpx.Response:
        """The token response for a service client (client_secret_basic)."""
        return httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "resource": resource, "scope": "leads"},
            auth=(client_id, self.secret(client_id)),
            timeout=10,
        )

    def service_token(self, client_id: str, resource: str = RESOURCE) -> str:
        response = self.client_credentials(client_id, resource)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def _configuration(self) -> dict[str, Any]:
        code_flow = {"grant_types": ["authorization_code"], "response_types": ["code"]}
        service = {"grant_types": ["client_credentials"], "response_types": [], "redirect_uris": []}
        clients = [
            {
                "client_id": UI_CLIENT_ID,
                "client_secret": self.secret(UI_CLIENT_ID),
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": self.redirect_uris,
                **code_flow,
            },
            {
                "client_id": PUBLIC_UI_CLIENT_ID,
                "token_endpoint_auth_method": "none",
                "redirect_uris": self.redirect_uris,
                **code_flow,
            },
            *(
                {"client_id": client_id, "client_secret": self.secret(client_id), **service}
                for client_id in SERVICE_CLIENTS
            ),
        ]
        return {
            "port": self.port,
            "resource": RESOURCE,
            "audience": AUDIENCE,
            "otherResources": {OTHER_RESOURCE: OTHER_AUDIENCE},
            "accounts": ACCOUNTS,
            "serviceClients": SERVICE_CLIENTS,
            "clients": clients,
        }


@dataclass
class RunningProvider:
    provider: RealProvider

    def __enter__(self) -> RealProvider:
        self.provider.start()
        return self.provider

    def __exit__(self, *_: object) -> None:
        self.provider.stop()


def real_provider(folder: Path, redirect_uris: list[str]) -> RunningProvider:
    """`with real_provider(...) as provider:` oidc-provider running until the block ends."""
    require_node_provider()
    return RunningProvider(RealProvider(folder, redirect_uris))


def production_environment(provider: RealProvider, client_id: str = UI_CLIENT_ID) -> dict[str, str]:
    """GROEIRUIMTE_ variables of a production deployment signing in at `provider`."""
    environment = {
        "GROEIRUIMTE_ENVIRONMENT": "production",
        "GROEIRUIMTE_JWT_SECRET": secrets.token_urlsafe(32),
        "GROEIRUIMTE_PAYLOAD_KEYS": json.dumps({"test-1": base64.b64encode(os.urandom(32)).decode()}),
        "GROEIRUIMTE_PAYLOAD_KEY_ID": "test-1",
        "GROEIRUIMTE_OIDC_ISSUER": provider.issuer,
        "GROEIRUIMTE_OIDC_JWKS_URL": provider.jwks_url,
        "GROEIRUIMTE_OIDC_AUDIENCE": AUDIENCE,
        "GROEIRUIMTE_OIDC_ROLES_CLAIM": ROLES_CLAIM,
        "GROEIRUIMTE_OIDC_ORG_CLAIM": "org",
        "GROEIRUIMTE_OIDC_RESOURCE": RESOURCE,
        "GROEIRUIMTE_OIDC_CLIENT_ID": client_id,
        "GROEIRUIMTE_OIDC_SCOPE": "openid profile leads",
    }
    if client_id == UI_CLIENT_ID:
        environment["GROEIRUIMTE_OIDC_CLIENT_SECRET"] = provider.secret(UI_CLIENT_ID)
    return environment


# --- the API in-process (its outbound calls to the provider over real HTTP) ---------------------------

APP_URL = "https://groeiruimte.test"  # https: production session cookies are Secure


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealProvider]:
    """One provider for the tests that leave it running as it is."""
    with real_provider(tmp_path_factory.mktemp("oidc"), [f"{APP_URL}/ui/oidc/terug"]) as running:
        yield running


@pytest.fixture
def own_provider(tmp_path: Path) -> Iterator[RealProvider]:
    """A provider of the test's own, to restart or stop."""
    with real_provider(tmp_path, [f"{APP_URL}/ui/oidc/terug"]) as running:
        yield running


@asynccontextmanager
async def production_app(
    provider: RealProvider, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch, **environment: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The production app signing in at `provider` with the public UI client (PKCE, no secret)."""
    for name, value in {**production_environment(provider, PUBLIC_UI_CLIENT_ID), **environment}.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    container = Container(settings, store.engine, store, None, None, PartnerRegistry(store.engine))
    transport = httpx.ASGITransport(app=create_app(settings, container))
    async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as client:
        yield client


@pytest.fixture
async def app(
    provider: RealProvider, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    async with production_app(provider, store, monkeypatch) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_service_clients_token_from_the_provider_is_accepted_with_its_role(
    provider: RealProvider, app: httpx.AsyncClient
) -> None:
    auditor = bearer(provider.service_token(SERVICE_CLIENT_ID))
    partner = bearer(provider.service_token(PARTNER_SERVICE_CLIENT_ID))
    assert (await app.get("/v1/leads", headers=auditor)).status_code == 200
    assert (await app.get("/v1/audit/access-log", headers=auditor)).status_code == 200
    assert (await app.get("/v1/leads", headers=partner)).status_code == 403
    assert (await app.get("/v1/audit/access-log", headers=partner)).status_code == 403


async def test_a_token_the_provider_made_for_another_api_is_refused(
    provider: RealProvider, app: httpx.AsyncClient
) -> None:
    other = provider.service_token(SERVICE_CLIENT_ID, resource=OTHER_RESOURCE)
    response = await app.get("/v1/leads", headers=bearer(other))
    assert response.status_code == 401
    assert "audience" in response.json()["detail"].lower()


async def test_the_api_picks_up_the_providers_new_signing_key_after_a_rotation(
    own_provider: RealProvider, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    cooldown = {"GROEIRUIMTE_OIDC_JWKS_REFRESH_COOLDOWN_SECONDS": "1"}
    async with production_app(own_provider, store, monkeypatch, **cooldown) as app:
        before = bearer(own_provider.service_token(SERVICE_CLIENT_ID))
        assert (await app.get("/v1/leads", headers=before)).status_code == 200
        own_provider.restart()
        after = bearer(own_provider.service_token(SERVICE_CLIENT_ID))
        await asyncio.sleep(1.1)  # the refetch cooldown
        assert (await app.get("/v1/leads", headers=after)).status_code == 200
        retired = await app.get("/v1/leads", headers=before)
    assert retired.status_code == 401, "a token signed with a key the provider no longer publishes"


# --- the UI's sign-in: authorization code + PKCE, the browser's part played by httpx -------------------


async def _start_sign_in(app: httpx.AsyncClient) -> str:
    """The provider's authorization URL the UI sends the browser to."""
    response = await app.get("/ui/oidc/aanmelden", params={"volgende": "/ui/werkvoorraad"})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def _sign_in_at_provider(authorization_url: str, login: str) -> str:
    """Log in and consent on the provider's pages; returns the redirect back to the UI."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(authorization_url, follow_redirects=True)
        while True:
            form = re.search(r'<form[^>]*action="([^"]+)"[^>]*method="post"', page.text)
            assert form is not None, page.text
            prompt = re.search(r'name="prompt" value="(\w+)"', page.text)
            data = {"prompt": prompt.group(1) if prompt else "consent", "login": login, "password": "x"}
            response = browser.post(urljoin(str(page.url), form.group(1)), data=data)
            while response.is_redirect and not response.headers["location"].startswith(APP_URL):
                response = browser.get(urljoin(str(response.url), response.headers["location"]))
            if response.is_redirect:
                return response.headers["location"]
            page = response


async def test_the_ui_signs_in_with_the_code_flow_and_pkce_and_keeps_the_providers_token(
    provider: RealProvider, app: httpx.AsyncClient
) -> None:
    authorization_url = await _start_sign_in(app)
    query = parse_qs(urlsplit(authorization_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["resource"] == [RESOURCE]
    back = _sign_in_at_provider(authorization_url, "anna.devries")
    landed = await app.get(back)
    assert (landed.status_code, landed.headers["location"]) == (303, "/ui/werkvoorraad"), landed.text
    page = await app.get("/ui/werkvoorraad")
    assert page.status_code == 200
    assert "anna.devries" in page.text and "Taskforce" in page.text


async def test_the_ui_refuses_a_callback_whose_state_was_tampered_with(
    provider: RealProvider, app: httpx.AsyncClient
) -> None:
    back = _sign_in_at_provider(await _start_sign_in(app), "anna.devries")
    tampered = re.sub(r"state=[^&]+", "state=" + secrets.token_urlsafe(16), back)
    refused = await app.get(tampered)
    assert refused.status_code == 400
    assert "Aanmelden mislukt" in refused.text
    assert (await app.get("/ui/werkvoorraad")).headers["location"].startswith("/ui/aanmelden")


async def test_the_ui_refuses_an_account_the_api_gives_no_role(
    provider: RealProvider, app: httpx.AsyncClient
) -> None:
    back = _sign_in_at_provider(await _start_sign_in(app), "zonder.rol")
    refused = await app.get(back)
    assert refused.status_code == 403
    assert "Uw account heeft geen rol of organisatie in groeiruimte." in refused.text
    assert (await app.get("/ui/werkvoorraad")).headers["location"].startswith("/ui/aanmelden")


async def test_behind_a_proxy_the_provider_is_given_the_callback_under_the_public_url(
    provider: RealProvider, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = {"GROEIRUIMTE_PUBLIC_URL": "https://groeiruimte.example.nl/"}
    async with production_app(provider, store, monkeypatch, **public) as app:
        authorization_url = await _start_sign_in(app)
    query = parse_qs(urlsplit(authorization_url).query)
    assert query["redirect_uri"] == ["https://groeiruimte.example.nl/ui/oidc/terug"]


async def test_signing_in_while_the_provider_is_down_says_so(
    own_provider: RealProvider, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with production_app(own_provider, store, monkeypatch) as app:
        own_provider.stop()
        response = await app.get("/ui/oidc/aanmelden")
    assert response.status_code == 503
    assert "De identiteitsprovider is niet bereikbaar." in response.text
