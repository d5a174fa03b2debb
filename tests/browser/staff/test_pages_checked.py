"""Every page of the school responsible, the staff, the pupil and the parent: no serious
or critical accessibility violation in Dutch or English; every form refuses a post
without its CSRF token and shows the server's errors next to the field; the report
page prints none of the report."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from iris.seed import (
    CARE_COORDINATOR,
    PARENT,
    PUPILS,
    RESPONSIBLE_A,
    RESPONSIBLE_B,
    SCHOOL_A,
    SCHOOL_B,
    SCHOOLS,
    SUPPORT_WORKER,
)
from tests.browser.rig import describe, printed_text
from tests.browser.staff.conftest import reload_until, sign_in_as

pytestmark = pytest.mark.integration

LOTTE = PUPILS[0]
EMMA = PUPILS[2]  # her report is printed here; Lotte's changes in the golden path
CONTENT = [
    "Emma heeft nood aan voorspelbaarheid",
    "Werk met een visueel dagschema",
    "Time-timer, koptelefoon",
    "De redelijke aanpassingen volstaan niet",
]
WORDS = {
    "nl-BE": {
        "grant": "Toegang verlenen",
        "change": "Wijzigen",
        "revoke": "Intrekken",
        "requests": "Aanvragen",
        "reject": "Weigeren",
        "software": "Schoolsoftware",
        "register": "Registreren",
        "software_name": "Naam van de software",
        "audit": "Auditspoor",
        "pupils_link": f"Leerlingen met een verslag bij {SCHOOLS[SCHOOL_A]}",
        "views_link": f"Wie verslagen inzag bij {SCHOOLS[SCHOOL_A]}",
        "mine_link": "Wie het verslag inzag",
        "refused": "Niet toegestaan",
        "cancel": "Annuleren",
    },
    "en-GB": {
        "grant": "Grant access",
        "change": "Change",
        "revoke": "Revoke",
        "requests": "Requests",
        "reject": "Reject",
        "software": "School software",
        "register": "Register",
        "software_name": "Name of the software",
        "audit": "Audit trail",
        "pupils_link": f"Pupils with a report at {SCHOOLS[SCHOOL_A]}",
        "views_link": f"Who viewed reports at {SCHOOLS[SCHOOL_A]}",
        "mine_link": "Who looked at the report",
        "refused": "Not allowed",
        "cancel": "Cancel",
    },
}


def accessible(page: Any, axe: Any, shots: Any, what: str) -> None:
    violations = axe(page)
    assert violations == [], f"{what}: {describe(violations)}"
    shots.shot(what)


def in_main(page: Any) -> Any:
    return page.get_by_role("main")


def dotted(insz: str) -> str:
    """An INSZ as printed on an identity card."""
    return f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}"


# Each language once, each on one stack: the pages are the same templates on both, and
# walking every page four times checked the same markup twice over.
@pytest.mark.parametrize(
    ("platform", "locale"), [("dev", "nl-BE"), ("stage", "en-GB")], indirect=["platform"]
)
def test_every_page_of_the_responsible_staff_and_parent_has_no_serious_accessibility_violation(
    platform, new_page, steps, axe, locale
):
    words = WORDS[locale]
    dutch = locale == "nl-BE"
    page = new_page(locale)
    shots = steps(page)

    page.goto(platform.access + "/schools")
    sign_in_as(page, RESPONSIBLE_A.name, dutch)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    accessible(page, axe, shots, "grants")
    in_main(page).get_by_role("link", name=words["grant"], exact=True).click()
    accessible(page, axe, shots, "grant form")
    page.get_by_role("button", name=re.compile("Toegang bewaren|Save access")).click()
    expect(page.locator(".error-summary")).to_be_visible()
    accessible(page, axe, shots, "grant form with errors")
    page.go_back()
    page.go_back()
    in_main(page).get_by_role("link", name=f"{words['change']} {CARE_COORDINATOR.name}").click()
    accessible(page, axe, shots, "change a grant")
    page.go_back()
    in_main(page).get_by_role("link", name=f"{words['revoke']} {CARE_COORDINATOR.name}").click()
    accessible(page, axe, shots, "confirm a revoke")
    in_main(page).get_by_role("link", name=words["cancel"]).click()
    page.get_by_role("navigation").get_by_role("link", name=words["requests"]).click()
    accessible(page, axe, shots, "requests")
    in_main(page).get_by_role("link", name=f"{words['reject']} {SUPPORT_WORKER.name}").click()
    accessible(page, axe, shots, "reject a request")
    page.get_by_role("navigation").get_by_role("link", name=words["software"]).click()
    accessible(page, axe, shots, "school software")
    software = f"Leerlingvolgsysteem {locale}"
    page.get_by_label(words["software_name"]).fill(software)
    page.get_by_role("button", name=words["register"]).click()
    expect(page.get_by_test_id("client-secret")).to_be_visible()
    accessible(page, axe, shots, "school software registered, the secret shown once")
    in_main(page).get_by_role(
        "link", name=f"{words['revoke']} Leerlingvolgsysteem {locale}"
    ).click()
    accessible(page, axe, shots, "confirm revoking school software")
    in_main(page).get_by_role("link", name=words["cancel"]).click()
    page.get_by_role("navigation").get_by_role("link", name=words["audit"]).click()
    accessible(page, axe, shots, "audit trail")

    page.goto(platform.viewer + "/")
    accessible(page, axe, shots, "viewer home of the responsible")
    page.get_by_role("link", name=words["views_link"]).click()
    accessible(page, axe, shots, "who viewed reports at the school")
    page.goto(platform.viewer + "/schools")
    accessible(page, axe, shots, "no school to choose")

    staff = new_page(locale)
    staff_shots = steps(staff)
    staff.goto(platform.viewer + "/")
    sign_in_as(staff, CARE_COORDINATOR.name, dutch)
    staff.get_by_role("link", name=words["pupils_link"]).click()
    accessible(staff, axe, staff_shots, "pupils with a report")
    staff.get_by_role("link", name=LOTTE.name).click()
    expect(staff.locator(".watermark span").first).to_contain_text(CARE_COORDINATOR.name)
    accessible(staff, axe, staff_shots, "the report")

    parent = new_page(locale)
    parent_shots = steps(parent)
    parent.goto(platform.viewer + "/")
    sign_in_as(parent, PARENT.name, dutch)
    accessible(parent, axe, parent_shots, "viewer home of the parent")
    parent.get_by_role("link", name=words["mine_link"]).click()
    expect(parent.get_by_role("row").filter(has_text=CARE_COORDINATOR.name).first).to_be_visible()
    accessible(parent, axe, parent_shots, "who looked at the report")


def test_the_school_picker_of_staff_granted_at_two_schools_is_accessible_in_both_languages(
    platform, new_page, steps, axe
):
    responsible = new_page("nl-BE")
    shots = steps(responsible)
    responsible.goto(platform.access + "/schools")
    sign_in_as(responsible, RESPONSIBLE_B.name)
    responsible.get_by_role("main").get_by_role("link", name="Toegang verlenen", exact=True).click()
    responsible.get_by_label("Naam van de persoon").fill(CARE_COORDINATOR.name)
    responsible.get_by_label("Rijksregisternummer van de persoon").fill(CARE_COORDINATOR.insz)
    responsible.get_by_label("Rol").select_option(label="Zorgcoördinator")
    responsible.get_by_role("button", name="Toegang bewaren").click()
    expect(responsible.get_by_role("status")).to_have_text("De toegang is bewaard.")
    shots.shot(f"the care coordinator granted at school {SCHOOL_B} too")

    staff = new_page("nl-BE")
    staff.goto(platform.viewer + "/schools")
    sign_in_as(staff, CARE_COORDINATOR.name)
    reload_until(staff, lambda: staff.get_by_role("heading", name="Kies een school").count() == 1)
    expect(staff.get_by_role("link", name=SCHOOLS[SCHOOL_B])).to_be_visible()
    accessible(staff, axe, shots, "the staff's school picker in Dutch")
    staff.get_by_role("link", name="English").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Choose a school")
    accessible(staff, axe, shots, "the staff's school picker in English")
    staff.get_by_role("link", name=SCHOOLS[SCHOOL_A]).click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Pupils with a report")


def without_csrf_token(page: Any, button: str) -> None:
    """Submit the form of `button` as a forged page would: without the CSRF token."""
    form = page.get_by_role("main").locator("form", has=page.get_by_role("button", name=button))
    form.first.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_role("main").get_by_role("button", name=button).first.click()


def test_every_form_refuses_a_post_without_its_csrf_token(platform, new_page, steps):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(platform.access + "/schools")
    sign_in_as(page, RESPONSIBLE_A.name)
    grants = page.url
    forms = [
        ("Toegang verlenen", "Toegang bewaren"),
        (f"Wijzigen {CARE_COORDINATOR.name}", "Toegang bewaren"),
        (f"Intrekken {CARE_COORDINATOR.name}", "Toegang intrekken"),
    ]
    for link, button in forms:
        page.goto(grants)
        page.get_by_role("main").get_by_role("link", name=link, exact=True).click()
        without_csrf_token(page, button)
        expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
        shots.shot(f"refused: {button}")
    page.goto(grants)
    row = page.get_by_role("row").filter(has_text=CARE_COORDINATOR.name)
    expect(row).to_contain_text("Actief")

    page.goto(platform.access + f"/schools/{SCHOOL_A}/requests")
    without_csrf_token(page, f"Goedkeuren {SUPPORT_WORKER.name}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    page.goto(platform.access + f"/schools/{SCHOOL_A}/requests")
    page.get_by_role("link", name=f"Weigeren {SUPPORT_WORKER.name}").click()
    page.get_by_label("Reden").fill("Geen leerling van deze school.")
    without_csrf_token(page, "Weigeren")
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    page.goto(platform.access + f"/schools/{SCHOOL_A}/requests")
    expect(page.get_by_role("heading", name="Wachten op uw beslissing")).to_be_visible()
    expect(page.get_by_role("button", name=f"Goedkeuren {SUPPORT_WORKER.name}")).to_be_visible()

    page.goto(platform.access + f"/schools/{SCHOOL_A}/clients")
    page.get_by_label("Naam van de software").fill("Vervalst")
    without_csrf_token(page, "Registreren")
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    page.goto(platform.access + f"/schools/{SCHOOL_A}/clients")
    expect(page.get_by_role("cell", name="Vervalst")).to_have_count(0)
    page.get_by_label("Naam van de software").fill("Echt")
    page.get_by_role("button", name="Registreren").click()
    page.get_by_role("link", name="Intrekken Echt").click()
    without_csrf_token(page, "Schoolsoftware intrekken")
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    shots.shot("refused: revoking school software")

    page.goto(platform.viewer + "/")
    signout = page.get_by_role("banner").locator("form")
    signout.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    page.get_by_role("banner").get_by_role("button", name="Afmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")


def error_of(page: Any, label: str) -> Any:
    """The error message tied to the field labelled `label`."""
    field = page.get_by_label(label, exact=True)
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby") or ""
    error_id = next(i for i in described.split() if i.endswith("-error"))
    return page.locator(f"[id='{error_id}']")


def test_every_form_shows_the_servers_errors_next_to_the_field(platform, new_page, steps):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(platform.access + "/schools")
    sign_in_as(page, RESPONSIBLE_A.name)
    page.get_by_role("main").get_by_role("link", name="Toegang verlenen", exact=True).click()
    page.get_by_label("Rijksregisternummer van de persoon").fill("12345")
    page.get_by_label("Vanaf").fill("")
    page.get_by_role("button", name="Toegang bewaren").click()
    expect(error_of(page, "Rijksregisternummer van de persoon (verplicht)")).to_have_text(
        "Fout: Een rijksregisternummer heeft 11 cijfers, bijvoorbeeld 85.07.30-123.35."
    )
    expect(error_of(page, "Vanaf (verplicht)")).to_contain_text("Dit veld is verplicht.")
    shots.shot("the grant form's errors next to each field")

    wrong_check = SUPPORT_WORKER.insz[:-1] + str((int(SUPPORT_WORKER.insz[-1]) + 1) % 10)
    page.get_by_label("Rijksregisternummer van de persoon").fill(dotted(wrong_check))
    page.get_by_label("Vanaf").fill("2026-09-01")
    page.get_by_label("Enkel de leerlingen die hieronder aangevinkt zijn").check()
    page.get_by_role("button", name="Toegang bewaren").click()
    expect(error_of(page, "Rijksregisternummer van de persoon (verplicht)")).to_contain_text(
        "controlecijfers (de laatste twee) kloppen niet"
    )
    expect(page.locator("[id='pupil_ids-error']")).to_contain_text("Vink minstens één leerling")
    shots.shot("a wrong check digit and no pupil ticked")

    page.get_by_label("Rijksregisternummer van de persoon").fill(dotted(SUPPORT_WORKER.insz))
    page.get_by_label("Tot").fill("2026-08-01")
    page.get_by_role("checkbox", name=re.compile(f"^{LOTTE.name}")).check()
    page.get_by_role("button", name="Toegang bewaren").click()
    expect(error_of(page, "Tot")).to_contain_text("De einddatum ligt voor de begindatum.")
    shots.shot("an access rule broken, next to the end date")

    page.goto(platform.access + f"/schools/{SCHOOL_A}/requests")
    page.get_by_label("Toegang tot").first.fill("2020-01-01")
    page.get_by_role("button", name=f"Goedkeuren {SUPPORT_WORKER.name}").click()
    expect(error_of(page, "Toegang tot")).to_contain_text("De einddatum ligt voor de begindatum.")
    shots.shot("the approval's error next to the end date")

    page.get_by_role("link", name=f"Weigeren {SUPPORT_WORKER.name}").click()
    page.get_by_role("button", name="Weigeren").click()
    expect(error_of(page, "Reden (verplicht)")).to_contain_text("Geef de reden")
    shots.shot("the rejection needs a reason")

    page.get_by_role("navigation").get_by_role("link", name="Schoolsoftware").click()
    page.get_by_role("button", name="Registreren").click()
    expect(error_of(page, "Naam van de software (verplicht)")).to_contain_text(
        "Geef de schoolsoftware een naam."
    )
    shots.shot("school software needs a name")


def test_the_report_page_printed_to_pdf_contains_none_of_the_report(platform, new_page, steps):
    page = new_page("nl-BE")
    shots = steps(page)
    page.goto(platform.viewer + "/")
    sign_in_as(page, CARE_COORDINATOR.name)
    page.get_by_role("link", name=WORDS["nl-BE"]["pupils_link"]).click()
    page.get_by_role("link", name=EMMA.name).click()
    for text in CONTENT:
        expect(page.get_by_text(text)).to_be_visible()
    shots.shot("the report on screen")

    printed = printed_text(page)
    assert "Dit verslag mag niet afgedrukt worden." in printed
    for text in [*CONTENT, EMMA.name, CARE_COORDINATOR.name, "GC-verslag"]:
        assert text not in printed
