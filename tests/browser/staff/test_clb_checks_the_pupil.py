"""Before a CLB issues a report it sees whom the national register number belongs to: the
name, birth year and school a school registered; a number no school of the CLB registered
(here an adult's) needs an explicit confirmation."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from iris.insz import make_insz
from iris.seed import CLB_STAFF, PUPILS, SCHOOLS
from tests.browser.staff.conftest import reload_until, sign_in_as

pytestmark = pytest.mark.integration

LOTTE = PUPILS[0]
ADULT = make_insz("1984-02-11", 155)


def find(page, insz: str) -> None:
    page.get_by_label("Rijksregisternummer (INSZ) van de leerling").fill(insz)
    page.get_by_role("button", name="Zoeken").click()


def fill_issue_form(page) -> None:
    page.get_by_label("Soort verslag (verplicht)").select_option(
        label="IAC: individueel aangepast curriculum"
    )
    page.get_by_label("Onderwijsniveau").select_option(label="Lager onderwijs")
    page.get_by_label("Type (buitengewoon onderwijs)").select_option(label="Type 9")
    page.get_by_label("Ingangsdatum").fill(date.today().isoformat())
    page.get_by_label("Onderwijsbehoeften van de leerling").fill("Nood aan rust.")
    page.get_by_label("Advies aan de school").fill("Een rustplek.")
    page.get_by_label("Maatregelen die al genomen zijn").fill("Koptelefoon.")
    page.get_by_label("Motivering").fill("Volstaat niet.")


def test_the_clb_sees_name_birth_year_and_school_and_confirms_a_number_no_school_registered(
    platform, new_page, steps, axe
):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(platform.reports + "/")
    page.get_by_role("main").get_by_role("link", name="Aanmelden").click()
    sign_in_as(page, CLB_STAFF.name)

    find(page, LOTTE.insz)
    identity = page.get_by_test_id("pupil-identity")
    reload_until(page, lambda: LOTTE.name in identity.inner_text())
    expect(identity).to_contain_text("geboren in 2016")
    expect(identity).to_contain_text(SCHOOLS[LOTTE.school_id])
    assert axe(page) == []
    shots.shot("the pupil's name, birth year and school before issuing")
    page.get_by_role("link", name="Een verslag uitreiken").click()
    expect(page.get_by_test_id("pupil-identity")).to_contain_text(LOTTE.name)
    expect(page.get_by_label("Ik heb het nummer nagekeken", exact=False)).to_have_count(0)

    page.goto(platform.reports + "/clb/pupils")
    find(page, ADULT)
    identity = page.get_by_test_id("pupil-identity")
    expect(identity).to_contain_text("Geen school van uw CLB schreef dit rijksregisternummer in")
    expect(identity).to_contain_text("geboren in 1984: een volwassene")
    shots.shot("a number no school registered, an adult's")
    page.get_by_role("link", name="Een verslag uitreiken").click()
    fill_issue_form(page)
    page.get_by_role("button", name="Het verslag nakijken").click()
    expect(page.get_by_role("alert")).to_contain_text("Bevestig dat u het rijksregisternummer")
    assert axe(page) == []
    shots.shot("refused without the confirmation")

    page.get_by_label("Ik heb het nummer nagekeken", exact=False).check()
    page.get_by_role("button", name="Het verslag nakijken").click()
    page.get_by_role("button", name="Versie 1 uitreiken").click()
    expect(page.get_by_role("status")).to_have_text("Versie 1 is uitgereikt.")
    shots.shot("issued after confirming")
