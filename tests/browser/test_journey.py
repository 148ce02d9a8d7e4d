"""A lead from signal to outcome through the web forms, a partner answering, and the dashboard counting it."""

import re
from datetime import date, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.browser.ui import open_step, sign_in, submit, until
from tests.e2e.conftest import Stack


def _realised_elsewhere(page: Page) -> int:
    page.goto("/ui/dashboard")
    shown = page.locator('[data-figure="realised_other_region"] [data-value]').inner_text()
    return int(shown.replace(".", ""))


def _signal(page: Page) -> None:
    page.goto("/ui/leads/nieuw")
    page.get_by_label("Bedrijfsnaam").fill("Lichtwerk Fotonica B.V.")
    page.get_by_label("Thuisregio").select_option("zuid")
    page.get_by_label("Provincie").select_option("noord-brabant")
    page.get_by_label("Gemeente").fill("Eindhoven")
    page.get_by_label("Optische systemen en geïntegreerde fotonica").check()
    page.get_by_label("Ruimte nodig op").fill("2029-06-30")
    page.get_by_label("Investering op het spel (EUR)").fill("40000000")
    submit(page, "Lead signaleren")
    expect(page.get_by_role("status")).to_have_text("De lead is gesignaleerd.")
    expect(page.locator("#fase")).to_have_text("Gesignaleerd")


def _articulate(page: Page) -> None:
    """A refused step and an invalid field show the API's reasons; then the demand is recorded."""
    open_step(page, "Vraagarticulatie afronden")
    submit(page, "Vraagarticulatie afronden en casusaanpak starten")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Deze stap kan niet in de huidige fase")
    expect(alert).to_contain_text("articulation needs at least one demand")
    open_step(page, "Ruimte")
    page.get_by_label("Vloeroppervlak (m²)").fill("6000")
    page.get_by_label("Cleanroom ISO-klasse").fill("12")
    submit(page, "Ruimtevraag ruimte vastleggen")
    expect(page.get_by_role("alert")).to_contain_text("Controleer de invoer")
    field = page.get_by_label("Cleanroom ISO-klasse")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#vraag-space-cleanroom_iso_class-fout")).to_have_text("Mag hoogstens 9 zijn")
    field.fill("5")
    submit(page, "Ruimtevraag ruimte vastleggen")
    expect(page.get_by_role("status")).to_have_text("De ruimtevraag is vastgelegd.")
    expect(page.locator("#fase")).to_have_text("Vraagarticulatie")
    open_step(page, "Vraagarticulatie afronden")
    submit(page, "Vraagarticulatie afronden en casusaanpak starten")
    expect(page.locator("#fase")).to_have_text("Makelen en schakelen")


def _broker(page: Page) -> None:
    open_step(page, "Locatieoptie voorstellen")
    form = page.locator("form[action$='/stappen/optie']")
    form.get_by_label("Regio").select_option("oost")
    form.get_by_label("Locatie").fill("Novio Tech Campus")
    form.get_by_label("Ruimte", exact=True).check()
    submit(page, "Locatieoptie voorstellen")
    open_step(page, "Verzoek aan een partner")
    form = page.locator("form[action$='/stappen/partnerverzoek']")
    form.get_by_label("Partner").select_option("provincie-gelderland")
    form.get_by_label("Ruimte", exact=True).check()
    form.get_by_label("Vraag").fill("6000 m2 met cleanroom op Novio Tech Campus?")
    form.get_by_label("Antwoord uiterlijk").fill((date.today() + timedelta(days=14)).isoformat())
    submit(page, "Verzoek aan een partner")
    expect(page.get_by_role("status")).to_have_text("Het verzoek is verstuurd.")


def _partner_answers(browser: Browser, base_url: str, code_name: str) -> None:
    partner = sign_in(browser, base_url, "partner-gelderland")
    expect(partner).to_have_url(re.compile("/ui/verzoeken"))
    until(lambda: partner.get_by_role("heading", name=code_name).count() == 1, partner)
    request = partner.locator("section.kaart", has=partner.get_by_role("heading", name=code_name))
    request.get_by_label("Aanbod: wij kunnen iets bieden").check()
    request.get_by_label("Wat u biedt").fill("Kavel van 2 ha op Novio Tech Campus, cleanroom mogelijk")
    request.get_by_role("button", name="Antwoord versturen").click()
    expect(partner.get_by_role("status")).to_have_text("Uw antwoord is verstuurd aan de taskforce.")


def _decide(page: Page) -> None:
    open_step(page, "Besluit van het bedrijf")
    page.locator("form[action$='/stappen/besluit']").get_by_label("Gekozen optie").select_option(index=1)
    submit(page, "Besluit van het bedrijf")
    open_step(page, "Uitkomst vastleggen")
    form = page.locator("form[action$='/stappen/uitkomst']")
    form.get_by_label(re.compile(r"^Uitkomst")).select_option("realised_other_region")
    form.get_by_label("Regio van realisatie").select_option("oost")
    form.get_by_label("Investering (EUR)").fill("25000000")
    form.get_by_label("Banen").fill("120")
    submit(page, "Uitkomst vastleggen")
    expect(page.get_by_role("status")).to_have_text("De uitkomst is vastgelegd.")
    expect(page.locator("#fase")).to_have_text("Uitkomst bekend")


def test_a_lead_goes_from_signal_to_outcome_through_the_forms_and_the_dashboard_counts_it(
    browser: Browser, ui_stack: Stack
) -> None:
    coordinator = sign_in(browser, ui_stack.api_url, "coordinator")
    expect(coordinator).to_have_url(re.compile("/ui/dashboard"))
    before = _realised_elsewhere(coordinator)

    taskforce = sign_in(browser, ui_stack.api_url, "taskforce-bom")
    _signal(taskforce)
    code_name = taskforce.get_by_role("heading", level=1).inner_text().split(" (")[0]
    _articulate(taskforce)
    _broker(taskforce)
    _partner_answers(browser, ui_stack.api_url, code_name)
    taskforce.reload()
    expect(taskforce.locator("#partnerverzoeken")).to_contain_text("Aanbod")
    _decide(taskforce)
    expect(taskforce.locator("ol.tijdlijn")).to_contain_text("Partner heeft geantwoord: aanbod")
    expect(taskforce.locator("ol.tijdlijn")).to_contain_text("anna.devries@bom.nl")

    until(lambda: _realised_elsewhere(coordinator) == before + 1, coordinator)
    taskforce.goto(f"/ui/werkvoorraad?zoek={code_name}")
    expect(taskforce.locator("tbody tr")).to_have_count(1)
    expect(taskforce.locator("tbody tr")).to_contain_text("Lichtwerk Fotonica B.V.")
