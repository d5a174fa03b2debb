"""The grant forms cannot hurt: a revoked grant cannot be saved back to life from a form
that was open before the revoke, and "Grant access" for a person who already has access
shows that access and the way to change it instead of replacing it. The pupils of a
pupil-limited grant are picked from a checklist that a name filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from iris.insz import make_insz
from iris.seed import PUPILS, RESPONSIBLE_A
from tests.browser.staff.conftest import sign_in_as

pytestmark = pytest.mark.integration

LOTTE, NOAH, EMMA = PUPILS[0], PUPILS[1], PUPILS[2]
REVOKED_TEACHER = make_insz("1991-04-09", 417)
REVOKED_NAME = "Ruben Claessens"
LIMITED_TEACHER = make_insz("1993-10-21", 263)
LIMITED_NAME = "Lien Vandenberghe"
FILTERING_TEACHER = make_insz("1994-02-14", 381)
FILTERING_NAME = "Jana Verbeke"


def row_of(page, name: str):
    return page.get_by_role("row").filter(has_text=name)


def dotted(insz: str) -> str:
    return f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}"


def tick(page, pupils) -> None:
    page.get_by_label("Enkel de leerlingen die hieronder aangevinkt zijn").check()
    for pupil in pupils:
        page.get_by_role("checkbox", name=re.compile(f"^{pupil.name}")).check()


def grant_teacher(page, insz: str, name: str, pupils, valid_from: str | None = None) -> None:
    page.get_by_role("main").get_by_role("link", name="Toegang verlenen", exact=True).click()
    page.get_by_label("Naam van de persoon").fill(name)
    page.get_by_label("Rijksregisternummer van de persoon").fill(dotted(insz))
    page.get_by_label("Rol").select_option(label="Leraar")
    if valid_from is not None:
        page.get_by_label("Vanaf").fill(valid_from)
    tick(page, pupils)
    page.get_by_role("button", name="Toegang bewaren").click()


def test_a_revoked_grant_cannot_be_saved_back_to_life_and_is_granted_anew_explicitly(
    platform, new_page, steps, axe
):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(platform.access + "/schools")
    sign_in_as(page, RESPONSIBLE_A.name)
    grants = page.url
    grant_teacher(page, REVOKED_TEACHER, REVOKED_NAME, [LOTTE])
    expect(row_of(page, REVOKED_NAME)).to_contain_text("Actief")
    expect(row_of(page, REVOKED_NAME)).to_contain_text(LOTTE.name)

    # the change form, open in a second tab while the grant is revoked in the first
    stale = page.context.new_page()
    stale.goto(grants)
    stale.get_by_role("main").get_by_role("link", name=f"Wijzigen {REVOKED_NAME}").click()
    page.get_by_role("main").get_by_role("link", name=f"Intrekken {REVOKED_NAME}").click()
    page.get_by_role("main").get_by_role("button", name="Toegang intrekken").click()
    expect(row_of(page, REVOKED_NAME)).to_contain_text("Ingetrokken")
    expect(page.get_by_role("link", name=f"Wijzigen {REVOKED_NAME}")).to_have_count(0)
    shots.shot("a revoked grant offers no change")

    stale.get_by_role("button", name="Toegang bewaren").click()
    expect(stale.get_by_role("alert")).to_contain_text("kan niet meer gewijzigd worden")
    assert axe(stale) == []
    steps(stale).shot("saving the stale form is refused")
    page.goto(grants)
    expect(row_of(page, REVOKED_NAME)).to_contain_text("Ingetrokken")

    # granted anew on purpose: the person found by name among those who had access
    page.get_by_role("main").get_by_role("link", name="Toegang verlenen", exact=True).click()
    page.get_by_label("Een persoon zoeken die toegang had bij deze school").fill("claessens")
    page.get_by_role("button", name="Persoon zoeken").click()
    page.get_by_role("link", name=f"{REVOKED_NAME} kiezen").click()
    expect(page.get_by_role("main")).to_contain_text(REVOKED_NAME)
    expect(page.get_by_role("main")).not_to_contain_text(REVOKED_TEACHER)
    tick(page, [LOTTE])
    assert axe(page) == []
    page.get_by_role("button", name="Toegang bewaren").click()
    expect(row_of(page, REVOKED_NAME)).to_contain_text("Actief")
    shots.shot("granted anew, on purpose")


def test_granting_a_person_who_has_access_shows_that_access_instead_of_replacing_it(
    platform, new_page, steps, axe
):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(platform.access + "/schools")
    sign_in_as(page, RESPONSIBLE_A.name)
    grants = page.url
    grant_teacher(page, LIMITED_TEACHER, LIMITED_NAME, [LOTTE, EMMA], valid_from="2026-09-01")
    expect(row_of(page, LIMITED_NAME)).to_contain_text("1 september 2026")

    grant_teacher(page, LIMITED_TEACHER, LIMITED_NAME, [NOAH])
    expect(page.get_by_role("alert")).to_contain_text("heeft al toegang")
    existing = page.get_by_test_id("existing-grant")
    expect(existing).to_contain_text(LIMITED_NAME)
    expect(existing).to_contain_text(LOTTE.name)
    expect(existing).to_contain_text(EMMA.name)
    expect(existing).to_contain_text("1 september 2026")
    assert axe(page) == []
    shots.shot("the person already has access: shown, not replaced")

    page.goto(grants)
    row = row_of(page, LIMITED_NAME)
    expect(row).to_contain_text(LOTTE.name)
    expect(row).to_contain_text(EMMA.name)
    expect(row).to_contain_text("1 september 2026")
    expect(row).not_to_contain_text(NOAH.name)

    grant_teacher(page, LIMITED_TEACHER, LIMITED_NAME, [NOAH])
    page.get_by_test_id("existing-grant").get_by_role("link", name="Deze toegang wijzigen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Toegang wijzigen")
    tick(page, [NOAH])
    page.get_by_role("button", name="Toegang bewaren").click()
    row = row_of(page, LIMITED_NAME)
    for pupil in (LOTTE, EMMA, NOAH):
        expect(row).to_contain_text(pupil.name)
    expect(row).to_contain_text("1 september 2026")
    shots.shot("Noah added by changing the access")


def test_the_pupil_checklist_is_filtered_by_name_and_keeps_what_was_ticked(
    platform, new_page, steps, axe
):
    page = new_page("nl-BE")
    shots = steps(page, role="school-responsible")
    page.goto(platform.access + "/schools")
    sign_in_as(page, RESPONSIBLE_A.name)
    page.get_by_role("main").get_by_role("link", name="Toegang verlenen", exact=True).click()
    page.get_by_label("Naam van de persoon").fill(FILTERING_NAME)
    page.get_by_label("Rijksregisternummer van de persoon").fill(dotted(FILTERING_TEACHER))
    page.get_by_label("Rol").select_option(label="Leraar")
    page.get_by_label("Enkel de leerlingen die hieronder aangevinkt zijn").check()

    def pupil(who):
        return page.get_by_role("checkbox", name=re.compile(f"^{who.name}"))

    page.get_by_label("Een leerling zoeken op naam").fill("emma")
    expect(pupil(EMMA)).to_be_visible()
    expect(pupil(LOTTE)).to_be_hidden()
    expect(page.locator("[data-pupil-filter] [role=status]")).to_have_text(
        re.compile(r"^1 van de \d+ leerlingen getoond$")
    )
    pupil(EMMA).check()
    assert axe(page) == []
    shots.shot("the pupil checklist filtered by name")

    page.get_by_label("Een leerling zoeken op naam").fill("noah")
    expect(pupil(EMMA)).to_be_hidden()
    pupil(NOAH).check()
    page.get_by_label("Een leerling zoeken op naam").fill("")
    expect(pupil(LOTTE)).to_be_visible()
    expect(pupil(EMMA)).to_be_checked()
    page.get_by_role("button", name="Toegang bewaren").click()
    row = row_of(page, FILTERING_NAME)
    expect(row).to_contain_text(EMMA.name)
    expect(row).to_contain_text(NOAH.name)
    expect(row).not_to_contain_text(LOTTE.name)
