"""axe-core on the main pages: no serious or critical WCAG 2.1 A/AA violations; Dutch, keyboard-reachable."""

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.ui import serious_violations, sign_in
from tests.e2e.conftest import Stack

PAGES = [
    ("taskforce-bom", "/ui/werkvoorraad"),
    ("taskforce-bom", "/ui/leads/nieuw"),
    ("partner-gelderland", "/ui/verzoeken"),
    ("coordinator", "/ui/dashboard"),
    ("coordinator", "/ui/rapportages"),
    ("ministry", "/ui/dashboard"),
]


def _check(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    assert serious_violations(page) == [], page.url


def test_sign_in_page_is_accessible_and_usable_by_keyboard(browser: Browser, ui_stack: Stack) -> None:
    page = browser.new_context(base_url=ui_stack.api_url).new_page()
    page.goto("/ui/aanmelden")
    _check(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Naar de inhoud")).to_be_focused()
    page.get_by_label("Gebruiker").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Aanmelden als demogebruiker")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Afmelden")).to_be_visible()


@pytest.mark.parametrize(("user", "path"), PAGES)
def test_main_pages_have_no_serious_accessibility_violations(
    browser: Browser, ui_stack: Stack, user: str, path: str
) -> None:
    page = sign_in(browser, ui_stack.api_url, user)
    page.goto(path)
    _check(page)


def test_lead_page_with_its_forms_open_has_no_serious_accessibility_violations(
    browser: Browser, ui_stack: Stack
) -> None:
    page = sign_in(browser, ui_stack.api_url, "taskforce-bom")
    page.goto("/ui/leads/nieuw")
    page.get_by_label("Bedrijfsnaam").fill("Toegankelijk B.V.")
    page.get_by_label("Thuisregio").select_option("zuid")
    page.get_by_role("button", name="Lead signaleren").click()
    expect(page.get_by_role("status")).to_have_text("De lead is gesignaleerd.")
    for summary in page.locator("details.actie > summary").all():
        summary.click()
    _check(page)
