"""The path through the pages, by clicking and typing only: a CLB staff member issues a
new version of a pupil's report, the school responsible limits a teacher to that pupil,
the teacher reads that pupil's report, the responsible
revokes and the teacher's next attempt is refused, and the parent sees who looked."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from iris.seed import CLB_STAFF, PARENT, PUPILS, RESPONSIBLE_A, SCHOOL_A, SCHOOL_B, SCHOOLS, TEACHER
from tests.browser.staff.conftest import reload_until, sign_in_as

pytestmark = pytest.mark.integration

LOTTE, EMMA = PUPILS[0], PUPILS[2]
NEW_NEEDS = "Lotte heeft dit schooljaar vooral nood aan vaste rustmomenten in de klas."


def pupil_box(page, pupil):
    return page.get_by_role("checkbox", name=re.compile(f"^{pupil.name}"))


def test_a_teacher_limited_to_one_pupil_reads_the_report_until_revoked_and_the_parent_sees_it(
    platform, new_page, steps
):
    # A CLB staff member issues a new version of Lotte's report, starting today.
    clb = new_page("nl-BE")
    clb_shots = steps(clb, role="clb-staff")
    clb.goto(platform.reports + "/")
    clb.get_by_role("main").get_by_role("link", name="Aanmelden").click()
    sign_in_as(clb, CLB_STAFF.name)
    clb.get_by_label("Rijksregisternummer (INSZ) van de leerling").fill(LOTTE.insz)
    clb.get_by_role("button", name="Zoeken").click()
    clb.get_by_role("link", name="Een verslag uitreiken").click()
    clb.get_by_label("Soort verslag (verplicht)").select_option(
        label="IAC: individueel aangepast curriculum"
    )
    clb.get_by_label("Onderwijsniveau").select_option(label="Lager onderwijs")
    clb.get_by_label("Type (buitengewoon onderwijs)").select_option(label="Type 9")
    clb.get_by_label("Ingangsdatum").fill(date.today().isoformat())
    clb.get_by_label("Onderwijsbehoeften van de leerling").fill(NEW_NEEDS)
    clb.get_by_label("Advies aan de school").fill("Voorzie een rustplek en een dagschema.")
    clb.get_by_label("Maatregelen die al genomen zijn").fill("Koptelefoon; onvoldoende.")
    clb.get_by_label("Motivering").fill("De redelijke aanpassingen volstaan niet meer.")
    clb_shots.shot("the CLB issues a new version")
    clb.get_by_role("button", name="Het verslag nakijken").click()
    expect(clb.get_by_test_id("effect")).to_contain_text("in plaats van versie 2")
    clb_shots.shot("the CLB reviews when the version takes effect")
    clb.get_by_role("button", name="Versie 3 uitreiken").click()
    expect(clb.get_by_role("status")).to_have_text("Versie 3 is uitgereikt.")
    expect(clb.get_by_test_id("version-3").locator(".status")).to_have_text("Huidig")
    clb_shots.shot("version 3 is current, version 2 superseded")

    # The school responsible limits the teacher to one pupil.
    responsible = new_page("nl-BE")
    shots = steps(responsible, role="school-responsible")
    responsible.goto(platform.access + "/schools")
    sign_in_as(responsible, RESPONSIBLE_A.name)
    expect(responsible.get_by_role("heading", level=1)).to_have_text("Toegangen")
    shots.shot("the responsible's grants")

    # the teacher already has access to the whole school: that access is changed
    responsible.get_by_role("link", name=f"Wijzigen {TEACHER.name}", exact=True).click()
    expect(responsible.get_by_role("heading", level=1)).to_have_text("Toegang wijzigen")
    expect(responsible.get_by_role("main")).to_contain_text(TEACHER.name)
    responsible.get_by_label("Rol").select_option(label="Leraar")
    responsible.get_by_label("Enkel de leerlingen die hieronder aangevinkt zijn").check()
    expect(pupil_box(responsible, LOTTE)).to_be_checked()
    pupil_box(responsible, EMMA).uncheck()
    shots.shot("the grant form filled in")
    responsible.get_by_role("button", name="Toegang bewaren").click()
    expect(responsible.get_by_role("status")).to_have_text("De toegang is bewaard.")
    teacher_row = responsible.get_by_role("row").filter(has_text=TEACHER.name)
    expect(teacher_row).to_contain_text(LOTTE.name)
    expect(teacher_row).not_to_contain_text(EMMA.name)
    expect(teacher_row).to_contain_text("Actief")
    expect(responsible.get_by_role("main")).not_to_contain_text(TEACHER.insz)
    expect(responsible.get_by_role("main")).not_to_contain_text(LOTTE.insz)
    shots.shot("the teacher limited to one pupil")

    # The teacher signs in, picks the school and reads that pupil's report.
    teacher = new_page("nl-BE")
    teacher_shots = steps(teacher, role="teacher")
    teacher.goto(platform.viewer + "/")
    sign_in_as(teacher, TEACHER.name)
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Welkom bij IRIS")
    teacher.get_by_role("link", name=f"Leerlingen met een verslag bij {SCHOOLS[SCHOOL_A]}").click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Leerlingen met een verslag")
    links = teacher.get_by_role("table").get_by_role("link")
    reload_until(teacher, lambda: links.count() == 1)
    teacher.get_by_label("Zoeken op naam").fill("lotte")
    teacher.get_by_role("button", name="Zoeken").click()
    expect(teacher.get_by_role("link", name=LOTTE.name)).to_be_visible()
    teacher.get_by_label("Zoeken op naam").fill("")
    teacher.get_by_role("button", name="Zoeken").click()
    expect(teacher.get_by_role("table").get_by_role("link")).to_have_count(1)
    expect(teacher.get_by_role("link", name=EMMA.name)).to_have_count(0)
    teacher_shots.shot("the teacher's pupils: only the one granted")

    teacher.get_by_role("link", name=LOTTE.name).click()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("IAC-verslag")
    reload_until(teacher, lambda: teacher.get_by_text(NEW_NEEDS).count() == 1)
    expect(teacher.get_by_text("Lotte heeft nood aan voorspelbaarheid")).to_have_count(0)
    expect(teacher.locator(".watermark span").first).to_contain_text(TEACHER.name)
    teacher_shots.shot("the report with the watermark")

    # The responsible sees the view, then revokes.
    responsible.get_by_role("navigation").get_by_role("link", name="Wie verslagen inzag").click()
    expect(responsible.get_by_role("heading", level=1)).to_have_text("Wie verslagen inzag")
    view_row = responsible.get_by_role("row").filter(has_text=TEACHER.name)
    expect(view_row.first).to_contain_text(LOTTE.name)
    shots.shot("who viewed reports at the school")

    responsible.get_by_role("link", name=f"Toegang beheren bij {SCHOOLS[SCHOOL_A]}").click()
    responsible.get_by_label("Rol").select_option(label="Leraar")
    responsible.get_by_role("button", name="Tonen").click()
    expect(responsible).to_have_url(re.compile(r"role=teacher"))
    responsible.get_by_role("link", name=f"Intrekken {TEACHER.name}", exact=True).click()
    expect(responsible.get_by_role("main")).to_contain_text(TEACHER.name)
    expect(responsible.get_by_role("heading", level=1)).to_have_text("Toegang intrekken")
    shots.shot("asked to confirm the revoke")
    responsible.get_by_role("button", name="Toegang intrekken").click()
    expect(responsible.get_by_role("status")).to_have_text("De toegang is ingetrokken.")
    expect(responsible.get_by_role("row").filter(has_text=TEACHER.name)).to_contain_text(
        "Ingetrokken"
    )
    shots.shot("the grant revoked")

    # The audit trail names who acted, to whom, and what changed, in words.
    responsible.get_by_role("navigation").get_by_role("link", name="Auditspoor").click()
    revoked_entry = responsible.get_by_role("row").filter(has_text="Toegang ingetrokken").first
    expect(revoked_entry).to_contain_text(RESPONSIBLE_A.name)
    expect(revoked_entry).to_contain_text(TEACHER.name)
    expect(revoked_entry).to_contain_text("Status: Actief → Ingetrokken")
    changed_entry = responsible.get_by_role("row").filter(has_text="Toegang gewijzigd").first
    expect(changed_entry).to_contain_text(LOTTE.name)
    expect(responsible.get_by_role("main")).not_to_contain_text(TEACHER.insz)
    shots.shot("the audit trail in names and words")

    # The teacher's next attempt is refused; her other school is not this pupil's.
    refused = teacher.get_by_role("heading", name="Geen verslag om te tonen")
    reload_until(teacher, lambda: refused.count() == 1)
    expect(teacher.get_by_text(NEW_NEEDS)).to_have_count(0)
    teacher_shots.shot("the next attempt refused")
    teacher.go_back()
    expect(teacher.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    teacher_shots.shot("the school's pupils refused too")
    teacher.goto(platform.viewer + "/")
    school_b = f"Leerlingen met een verslag bij {SCHOOLS[SCHOOL_B]}"
    expect(teacher.get_by_role("link", name=school_b)).to_be_visible()
    expect(
        teacher.get_by_role("link", name=f"Leerlingen met een verslag bij {SCHOOLS[SCHOOL_A]}")
    ).to_have_count(0)

    # The parent sees the teacher's view listed.
    parent = new_page("nl-BE")
    parent_shots = steps(parent, role="parent")
    parent.goto(platform.viewer + "/")
    sign_in_as(parent, PARENT.name)
    parent.get_by_role("link", name="Wie het verslag inzag").click()
    expect(parent.get_by_role("heading", level=1)).to_have_text("Wie het verslag inzag")
    expect(parent.get_by_role("heading", level=2)).to_have_text(LOTTE.name)
    row = parent.get_by_role("row").filter(has_text=TEACHER.name)
    expect(row.first).to_contain_text("Leraar")
    expect(row.first).to_contain_text(SCHOOLS[SCHOOL_A])
    parent_shots.shot("the parent sees who looked")
