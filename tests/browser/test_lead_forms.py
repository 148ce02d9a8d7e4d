"""The lead page's forms for amending details, revising a demand and withdrawing a partner request, in a
real browser: labelled fields, the API's messages, and no serious accessibility violations."""

from datetime import date, timedelta

from playwright.sync_api import Browser, expect

from tests.browser.ui import open_step, serious_violations, sign_in, submit
from tests.e2e.conftest import Stack


def test_details_demand_and_partner_request_forms_work_and_are_accessible(
    browser: Browser, ui_stack: Stack
) -> None:
    page = sign_in(browser, ui_stack.api_url, "taskforce-bom")
    page.goto("/ui/leads/nieuw")
    page.get_by_label("Bedrijfsnaam").fill("Herzien Fotonica B.V.")
    page.get_by_label("Thuisregio").select_option("zuid")
    submit(page, "Lead signaleren")
    open_step(page, "Ruimte")
    page.get_by_label("Vloeroppervlak (m²)").fill("6000")
    submit(page, "Ruimtevraag ruimte vastleggen")

    open_step(page, "Gegevens wijzigen")
    details = page.locator("form[action$='/stappen/gegevens']")
    expect(details.get_by_label("Bedrijfsnaam")).to_have_value("Herzien Fotonica B.V.")
    details.get_by_label("KvK-nummer").fill("123")
    submit(page, "Gegevens wijzigen")
    expect(page.locator("#gegevens-company-kvk_number-fout")).to_have_text("Heeft niet de juiste vorm")
    page.locator("form[action$='/stappen/gegevens']").get_by_label("KvK-nummer").fill("12345678")
    submit(page, "Gegevens wijzigen")
    expect(page.get_by_role("status")).to_have_text("De gegevens zijn gewijzigd.")

    # The second "Ruimte" step is the revision of the space demand just recorded.
    page.locator("details.actie > summary", has_text="Ruimte").nth(1).click()
    revision = page.get_by_role("form", name="Ruimtevraag ruimte herzien")
    expect(revision.get_by_label("Vloeroppervlak (m²)")).to_have_value("6000.0")
    revision.get_by_label("Vloeroppervlak (m²)").fill("8000")
    submit(page, "Ruimtevraag herzien")
    expect(page.get_by_role("status")).to_have_text("De ruimtevraag is herzien.")

    open_step(page, "Vraagarticulatie afronden")
    submit(page, "Vraagarticulatie afronden en casusaanpak starten")
    open_step(page, "Verzoek aan een partner")
    ask = page.locator("form[action$='/stappen/partnerverzoek']")
    ask.get_by_label("Partner").select_option("provincie-gelderland")
    ask.get_by_label("Vraag").fill("Kavel van 2 ha?")
    ask.get_by_label("Antwoord uiterlijk").fill((date.today() + timedelta(days=14)).isoformat())
    submit(page, "Verzoek aan een partner")

    for summary in page.locator("details.actie > summary").all():
        summary.click()
    assert serious_violations(page) == [], page.url

    withdraw = page.locator("form[action$='/stappen/verzoek-intrekken']")
    withdraw.get_by_label("Verzoek").select_option(index=1)
    withdraw.get_by_label("Reden").fill("Het bedrijf kiest een andere provincie")
    submit(page, "Verzoek aan een partner intrekken")
    expect(page.get_by_role("status")).to_have_text("Het verzoek is ingetrokken.")
    expect(page.locator("#partnerverzoeken")).to_contain_text("Ingetrokken")
