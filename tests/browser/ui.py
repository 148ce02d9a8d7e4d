"""Helpers that act as a user would: sign in as a demo user, open a step's form, fill it, send it."""

import time
from collections.abc import Callable

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def sign_in(browser: Browser, base_url: str, demo_user: str) -> Page:
    """A fresh browser context (own cookies) signed in through the sign-in page."""
    page = browser.new_context(base_url=base_url, locale="nl-NL").new_page()
    page.goto("/ui/aanmelden")
    page.get_by_label("Gebruiker").select_option(demo_user)
    page.get_by_role("button", name="Aanmelden als demogebruiker").click()
    expect(page.get_by_role("button", name="Afmelden")).to_be_visible()
    return page


def open_step(page: Page, summary: str) -> None:
    page.locator("details.actie > summary", has_text=summary).first.click()


def submit(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def until(check: Callable[[], bool], page: Page, seconds: float = 20) -> None:
    """Reload until `check` holds: read models follow the event log within a moment."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {seconds}s on {page.url}")
        time.sleep(0.3)
        page.reload()


def serious_violations(page: Page) -> list[str]:
    """axe-core (bundled with axe-playwright-python, run locally) on WCAG 2.1 A/AA rules."""
    results = Axe().run(page, options={**WCAG_AA, "resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
