"""Contact persons in a real browser: add one through the labelled form (the API's message first), erase
their personal data with a reason and a confirmation, see "gewist (AVG)"; no serious accessibility
violations on the lead page with these forms open."""

from playwright.sync_api import Browser, expect

from tests.browser.ui import open_step, serious_violations, sign_in, submit
from tests.e2e.conftest import Stack


def test_a_contact_person_is_added_and_erased_through_the_forms(browser: Browser, ui_stack: Stack) -> None:
    page = sign_in(browser, ui_stack.api_url, "taskforce-bom")
    page.goto("/ui/leads/nieuw")
    page.get_by_label("Bedrijfsnaam").fill("Contactrijk Fotonica B.V.")
    page.get_by_label("Thuisregio").select_option("zuid")
    submit(page, "Lead signaleren")

    open_step(page, "Contactpersoon toevoegen")
    add = page.locator("form[action$='/stappen/contactpersoon']")
    add.get_by_label("Naam").fill("Anna de Vries")
    add.get_by_label("E-mail").fill("anna-bij-contactrijk")
    add.get_by_label("Telefoon").fill("+31 40 123 4567")
    add.get_by_label("Functie").fill("CEO")
    submit(page, "Contactpersoon toevoegen")
    expect(page.get_by_role("alert")).to_contain_text("Controleer de invoer")
    email = page.locator("form[action$='/stappen/contactpersoon']").get_by_label("E-mail")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#contactpersoon-email-fout")).to_have_text("Heeft niet de juiste vorm")
    email.fill("anna@contactrijk.nl")
    submit(page, "Contactpersoon toevoegen")
    expect(page.get_by_role("status")).to_have_text("De contactpersoon is toegevoegd.")
    contacts = page.locator("#contacten")
    expect(contacts).to_contain_text("Anna de Vries")
    expect(contacts).to_contain_text("anna@contactrijk.nl")
    expect(page.locator("ol.tijdlijn")).to_contain_text("Contactpersoon toegevoegd: Anna de Vries, CEO")

    open_step(page, "Persoonsgegevens wissen (AVG): Anna de Vries")
    open_step(page, "Contactpersoon toevoegen")
    assert serious_violations(page) == [], page.url

    erase = page.get_by_role("form", name="Persoonsgegevens van Anna de Vries wissen (AVG)")
    erase.get_by_label("Toelichting").fill("Verzoek van de betrokkene (AVG art. 17)")
    erase.get_by_label("Ik weet dat dit definitief is").check()
    submit(page, "Persoonsgegevens wissen (AVG)")
    expect(page.get_by_role("status")).to_have_text("De persoonsgegevens zijn gewist.")
    expect(contacts).to_contain_text("gewist (AVG)")
    expect(contacts).not_to_contain_text("Anna de Vries")
    timeline = page.locator("ol.tijdlijn")
    expect(timeline).to_contain_text("Persoonsgegevens van een contactpersoon gewist (AVG)")
    expect(timeline).to_contain_text("Toelichting: Verzoek van de betrokkene (AVG art. 17)")
    expect(timeline).not_to_contain_text("Anna de Vries")
