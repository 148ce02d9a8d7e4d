"""Production sign-in in the browser at a real OpenID Connect provider (oidc-provider on Node.js):
authorization code with PKCE, landing signed in with the provider's role and organisation, working with
the provider's token, signing out, and a sign-in the user cancels at the provider."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from services.settings import Settings
from tests.browser.ui import submit, until
from tests.e2e.conftest import STARTUP_SECONDS, Stack, free_port
from tests.integration.test_oidc_provider import RealProvider, production_environment, real_provider

# `groeiruimte run` minus its banner, which prints a development token that production cannot mint
# (services/launcher.py: Launcher.banner); the processes, their order and Ctrl-C handling are the same.
LAUNCH_WITHOUT_BANNER = """
from services.launcher import Launcher
from services.settings import Settings
launcher = Launcher(Settings())
try:
    launcher.start()
except BaseException:
    launcher.stop()
    raise
raise SystemExit(launcher.wait())
"""


def _start_production_stack(folder: Path, provider: RealProvider, api_port: int) -> Stack:
    environment = {
        **os.environ,
        **production_environment(provider),
        "GROEIRUIMTE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'groeiruimte.db'}",
        "GROEIRUIMTE_VAR_DIR": str(folder / "var"),
        "GROEIRUIMTE_API_PORT": str(api_port),
        "GROEIRUIMTE_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "GROEIRUIMTE_TEMPORAL_UI_PORT": str(free_port()),
        "GROEIRUIMTE_PROJECTOR_POLL_SECONDS": "0.1",
        "GROEIRUIMTE_SMTP_PORT": str(free_port()),
        "GROEIRUIMTE_RATE_LIMIT_ENABLED": "false",
    }
    log_path = folder / "stack.log"
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCH_WITHOUT_BANNER],
        env=environment,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    with pytest.MonkeyPatch.context() as patch:  # the processes' settings, for Stack.settings
        for name, value in environment.items():
            if name.startswith("GROEIRUIMTE_"):
                patch.setenv(name, value)
        settings = Settings(_env_file=None)
    api_url = f"http://127.0.0.1:{api_port}"
    stack = Stack(api_url, "", environment["GROEIRUIMTE_DATABASE_URL"], settings, launcher, log_path)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and launcher.poll() is None:
        try:
            if httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200:
                return stack
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    launcher.send_signal(signal.SIGINT)
    launcher.wait(timeout=40)
    pytest.fail(f"the production system did not start:\n{stack.log_tail()}")


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Stack]:
    """The whole system in production mode, signing in at a real provider that knows its callback."""
    folder = tmp_path_factory.mktemp("oidc-stack")
    api_port = free_port()
    with real_provider(folder, [f"http://127.0.0.1:{api_port}/ui/oidc/terug"]) as provider:
        stack = _start_production_stack(folder, provider, api_port)
        yield stack
        if stack.launcher.poll() is None:
            stack.launcher.send_signal(signal.SIGINT)
        stack.launcher.wait(timeout=40)


def _to_provider(browser: Browser, stack: Stack, login: str) -> Page:
    """A fresh browser that opens the work list, is sent to sign in, and logs in at the provider."""
    page = browser.new_context(base_url=stack.api_url, locale="nl-NL").new_page()
    page.goto("/ui/werkvoorraad")
    expect(page).to_have_url(re.compile(r"/ui/aanmelden\?volgende="))
    expect(page.get_by_role("button", name="Aanmelden als demogebruiker")).to_have_count(0)
    page.get_by_role("link", name="Aanmelden via de identiteitsprovider").click()
    page.get_by_placeholder("Enter any login").fill(login)
    page.get_by_placeholder("and password").fill("geheim")
    page.get_by_role("button", name="Sign-in").click()
    expect(page.get_by_role("button", name="Continue")).to_be_visible()
    return page


def _signal_lead(page: Page) -> None:
    page.goto("/ui/leads/nieuw")
    page.get_by_label("Bedrijfsnaam").fill("Spinwaarde Quantum B.V.")
    page.get_by_label("Thuisregio").select_option("zuid")
    page.get_by_label("Provincie").select_option("noord-brabant")
    page.get_by_label("Gemeente").fill("Eindhoven")
    page.get_by_label("Ruimte nodig op").fill("2029-06-30")
    submit(page, "Lead signaleren")
    expect(page.get_by_role("status")).to_have_text("De lead is gesignaleerd.")


def test_a_user_signs_in_at_the_provider_works_with_its_token_and_signs_out(
    browser: Browser, production: Stack
) -> None:
    page = _to_provider(browser, production, "anna.devries")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(f"{production.api_url}/ui/werkvoorraad")
    expect(page.locator(".wie")).to_contain_text("anna.devries · BOM · Taskforce")
    expect(page.get_by_role("heading", level=1)).to_have_text("Werkvoorraad")
    _signal_lead(page)
    page.goto("/ui/werkvoorraad")
    until(lambda: page.locator("tbody tr", has_text="Spinwaarde Quantum B.V.").count() == 1, page)

    page.get_by_role("button", name="Afmelden").click()
    expect(page).to_have_url(re.compile("/ui/aanmelden"))
    page.goto("/ui/werkvoorraad")
    expect(page).to_have_url(re.compile(r"/ui/aanmelden\?volgende="))
    expect(page.get_by_role("button", name="Afmelden")).to_have_count(0)


def test_a_sign_in_cancelled_at_the_provider_leaves_the_user_signed_out(
    browser: Browser, production: Stack
) -> None:
    page = _to_provider(browser, production, "cor.coordinator")
    page.get_by_role("link", name="Cancel").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden mislukt")
    expect(page.locator("main")).to_contain_text("bij de identiteitsprovider afgebroken")
    page.goto("/ui/dashboard")
    expect(page).to_have_url(re.compile(r"/ui/aanmelden\?volgende="))
