"""The hardened HTTP edge in-process: security headers, 413, 429 with Retry-After, trailing slashes,
unknown query parameters, no credentials in URLs, no internals in a 500, CORS closed unless configured."""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.api.app import create_app
from services.auth import Role, mint_token
from services.container import Container
from services.partners import PartnerRegistry
from services.persistence.event_store import SqlEventStore
from services.settings import Settings

SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}


def build(store: SqlEventStore, **overrides: Any) -> tuple[FastAPI, Settings]:
    settings = Settings(_env_file=None, **{"rate_limit_enabled": False, **overrides})
    container = Container(settings, store.engine, store, None, None, PartnerRegistry(store.engine))
    return create_app(settings, container), settings


def client(app: FastAPI, settings: Settings, role: Role | None = Role.COORDINATOR) -> httpx.AsyncClient:
    headers = {} if role is None else {"Authorization": f"Bearer {token(settings, role)}"}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://api", headers=headers)


def token(settings: Settings, role: Role, org: str = "nfia") -> str:
    return mint_token(settings, role=role, org=org, sub=f"{role.value}@{org}")


@pytest.fixture
async def edge(store: SqlEventStore) -> AsyncIterator[httpx.AsyncClient]:
    app, settings = build(store)
    async with client(app, settings) as api:
        yield api


@pytest.mark.parametrize("path", ["/v1/monitoring/pipeline", "/v1/leads/not-a-uuid", "/healthz", "/nowhere"])
async def test_every_answer_carries_the_security_headers(edge: httpx.AsyncClient, path: str) -> None:
    response = await edge.get(path)
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy and "unsafe" not in policy  # nothing external, nothing inline
    assert response.headers["api-version"]


async def test_the_uis_own_static_files_may_be_cached_and_keep_the_policy(edge: httpx.AsyncClient) -> None:
    response = await edge.get("/ui/static/ui.css")
    assert response.status_code == 200
    assert response.headers.get("cache-control") != "no-store"
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_the_docs_come_from_our_own_origin_without_inline_scripts(edge: httpx.AsyncClient) -> None:
    page = await edge.get("/docs")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert scripts and all(body.strip() == "" for _, body in scripts)  # no inline script
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/") for source in sources)
    for source in sources:
        assert (await edge.get(source)).status_code == 200, source


@pytest.mark.parametrize("path", ["/v1/leads/", "/v1/monitoring/pipeline/", "/healthz/"])
async def test_a_trailing_slash_is_404_not_a_redirect(edge: httpx.AsyncClient, path: str) -> None:
    response = await edge.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_query_parameters_are_400_with_their_names(edge: httpx.AsyncClient) -> None:
    refused = await edge.get("/v1/leads", params={"stage": "brokering", "stag": "x", "sort": "name"})
    assert refused.status_code == 400
    assert {param["name"] for param in refused.json()["invalidParams"]} == {"stag", "sort"}
    assert (await edge.get("/v1/leads", params={"stage": "brokering", "limit": 5})).status_code == 200
    assert (await edge.get("/openapi.json", params={"v": "1"})).status_code == 200


@pytest.mark.parametrize(
    "params",
    [{"access_token": "abc"}, {"token": "abc"}, {"q": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"}],
    ids=["access_token", "token", "jwt-as-value"],
)
async def test_credentials_are_never_accepted_in_the_query_string(
    store: SqlEventStore, params: dict[str, str]
) -> None:
    app, settings = build(store)
    async with client(app, settings, role=None) as anonymous:
        for path in ("/v1/monitoring/pipeline", "/ui/werkvoorraad", "/healthz"):
            response = await anonymous.get(path, params=params)
            assert response.status_code == 400, path
            assert "Authorization header" in response.json()["detail"]
            assert next(iter(params.values())) not in response.text


async def test_a_streamed_body_over_the_limit_is_413(edge: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 600_000

    response = await edge.post("/v1/leads", content=chunks())
    assert response.status_code == 413
    assert response.json()["type"] == "urn:groeiruimte:problem:payload-too-large"


async def test_an_unexpected_error_is_a_500_problem_without_internals(store: SqlEventStore) -> None:
    app, settings = build(store)

    @app.get("/v1/explode")
    async def explode() -> None:
        raise RuntimeError("database password is hunter2 at /srv/groeiruimte/secret.py line 3")

    async with client(app, settings) as api:
        response = await api.get("/v1/explode")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "hunter2" not in response.text and "Traceback" not in response.text and ".py" not in response.text
    assert response.headers["x-correlation-id"] and response.headers["cache-control"] == "no-store"


async def test_rate_limits_per_token_and_per_ip_answer_429_with_retry_after(store: SqlEventStore) -> None:
    app, settings = build(
        store, rate_limit_enabled=True, rate_limit_per_token_per_minute=3, rate_limit_per_ip_per_minute=6
    )
    async with client(app, settings, Role.MINISTRY) as first, client(app, settings, Role.AUDITOR) as second:
        answers = [(await first.get("/v1/monitoring/pipeline")).status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = await first.get("/v1/monitoring/pipeline")
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        assert limited.json()["status"] == 429
        # Another token from the same address gets its own bucket, until the address runs out.
        assert [(await second.get("/v1/monitoring/pipeline")).status_code for _ in range(2)] == [200, 429]
        assert (await second.get("/healthz")).status_code == 200  # probes are never limited


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_ip_bucket(
    store: SqlEventStore,
) -> None:
    limits = {"rate_limit_enabled": True, "rate_limit_per_ip_per_minute": 2}
    app, settings = build(store, trusted_proxies=["127.0.0.0/8"], **limits)  # the test client is 127.0.0.1
    pipeline = "/v1/monitoring/pipeline"

    async def answers(api: httpx.AsyncClient, forwarded_for: str, times: int) -> list[int]:
        headers = {"X-Forwarded-For": forwarded_for}
        return [(await api.get(pipeline, headers=headers)).status_code for _ in range(times)]

    async with client(app, settings, Role.MINISTRY) as api:
        assert await answers(api, "203.0.113.7", 3) == [200, 200, 429]
        assert await answers(api, "198.51.100.9", 1) == [200]  # another client behind the same proxy
        # A client cannot escape its bucket by writing its own header in front of the proxy's.
        assert await answers(api, "192.0.2.1, 203.0.113.7", 1) == [429]

    app, settings = build(store, **limits)  # no trusted proxy: the header is anyone's to write
    async with client(app, settings, Role.MINISTRY) as api:
        spoofed = [await answers(api, f"192.0.2.{n}", 1) for n in range(3)]
    assert spoofed == [[200], [200], [429]]


async def test_the_uis_in_process_calls_count_with_the_page_that_makes_them(store: SqlEventStore) -> None:
    app, settings = build(store, rate_limit_enabled=True, rate_limit_per_ip_per_minute=3)

    @app.get("/ui/test-page")
    async def page() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token(settings, Role.MINISTRY)}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://in", headers=headers) as api:
            return [(await api.get("/v1/monitoring/pipeline")).status_code for _ in range(5)]

    async with client(app, settings, role=None) as browser:
        assert (await browser.get("/ui/test-page")).json() == [200] * 5
        assert [(await browser.get("/ui/test-page")).status_code for _ in range(3)] == [200, 200, 429]


async def test_a_connection_is_closed_after_its_budget_of_requests(store: SqlEventStore) -> None:
    """In process every request comes from one address and port, as on one keep-alive connection."""
    app, settings = build(store, api_keepalive_requests=3)
    async with client(app, settings) as api:
        answers = [(await api.get("/healthz")).headers.get("connection") for _ in range(7)]
    assert answers == [None, None, "close", None, None, "close", None]

    app, settings = build(store, api_keepalive_requests=0)
    async with client(app, settings) as api:
        assert {(await api.get("/healthz")).headers.get("connection") for _ in range(60)} == {None}


async def test_cors_is_closed_unless_an_origin_is_configured(store: SqlEventStore) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    app, settings = build(store)
    async with client(app, settings) as closed:
        refused = await closed.options("/v1/leads", headers=preflight)
        simple = await closed.get("/v1/monitoring/pipeline", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers
    app, settings = build(store, cors_origins=["https://portaal.example.nl"])
    async with client(app, settings) as opened:
        allowed = await opened.options(
            "/v1/leads", headers={**preflight, "Origin": "https://portaal.example.nl"}
        )
        still_refused = await opened.options("/v1/leads", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://portaal.example.nl"
    assert "access-control-allow-origin" not in still_refused.headers
