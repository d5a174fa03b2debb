"""One way around IRIS, by clicking only: each role starts at the sign-in service's home,
is sent to what it can do, finds the same header (the service it is in, the navigation,
language, sign-out) on every service's pages, and a page saying where to go where its
role has nothing. Every page passes axe-core at desktop width and at 390 px, where it
does not scroll sideways. With IRIS_SCREENSHOTS=1 the steps are kept per role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from iris.seed import (
    CLB_STAFF,
    PARENT,
    PUPILS,
    RESPONSIBLE_A,
    SCHOOL_B,
    SCHOOLS,
    SUPPORT_WORKER,
    TEACHER,
)
from tests.browser.rig import describe
from tests.browser.staff.conftest import sign_in_as

pytestmark = pytest.mark.integration

MILA = PUPILS[6]
"""A pupil with a report at school B, where the teacher's grant is never changed by a test
(the golden path revokes hers at school A)."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def checked(page: Any, axe: Any, shots: Any, what: str) -> None:
    """No serious or critical violation at desktop width and at 390 px, where the page
    does not scroll sideways either; a screenshot of each."""
    for size, label in ((DESKTOP, what), (PHONE, f"{what} at 390 px")):
        page.set_viewport_size(size)
        violations = axe(page)
        assert violations == [], f"{label}: {describe(violations)}"
        if size is PHONE:
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"{label}: {wide} px wide"
        shots.shot(label)
    page.set_viewport_size(DESKTOP)


def start(platform: Any, page: Any, name: str) -> None:
    """The sign-in service's home: sign in there."""
    page.goto(platform.stack.urls["issuer"] + "/")
    page.get_by_role("main").get_by_role("link", name="Aanmelden").click()
    sign_in_as(page, name)
    expect(page.get_by_test_id("signed-in-name")).to_have_text(name)


def go(platform: Any, page: Any, label: str, name: str) -> None:
    """Follow a task from the start page; a service seen for the first time sends the
    person through the development issuer's page, where they click who they are."""
    issuer = platform.stack.urls["issuer"]

    def at_the_service(url: str) -> bool:
        return not url.startswith(issuer) and "/auth/" not in url

    page.get_by_test_id("tasks").get_by_role("link", name=label, exact=True).click()
    page.wait_for_url(lambda url: "/authorize?" in url or at_the_service(url))
    if "/authorize?" in page.url:
        sign_in_as(page, name)
        page.wait_for_url(at_the_service)
    expect(page.get_by_test_id("signed-in-name")).to_have_text(name)


def to_school_b(page: Any) -> None:
    """On from "Pupils with a report" to school B's pupils: through the school picker while
    the teacher is granted at both schools, straight there once only at school B."""
    picker = page.get_by_role("link", name=SCHOOLS[SCHOOL_B], exact=True)
    if page.get_by_role("heading", level=1, name="Kies een school").count():
        picker.click()
    expect(page.get_by_role("link", name=MILA.name)).to_be_visible()


def header_says(page: Any, service: str, current: str | None = None) -> None:
    header = page.get_by_role("banner")
    expect(header).to_contain_text(f"U bent in: {service}")
    nav = page.get_by_role("navigation", name="Hoofdnavigatie")
    expect(nav.get_by_role("link", name="Start", exact=True)).to_be_visible()
    if current is not None:
        expect(nav.locator("[aria-current=page]")).to_have_text(current)
    expect(header.get_by_role("link", name="English")).to_be_visible()
    expect(
        header.get_by_role("button", name="Afmelden").or_(
            header.get_by_role("link", name="Afmelden")
        )
    ).to_be_visible()


def test_clb_staff_go_from_the_start_page_to_finding_a_pupil(platform, new_page, steps, axe):
    page = new_page("nl-BE")
    shots = steps(page, role="clb-staff")
    start(platform, page, CLB_STAFF.name)
    tasks = page.get_by_test_id("tasks")
    expect(tasks.get_by_role("link")).to_have_text(["Een leerling zoeken"])
    checked(page, axe, shots, "the start page sends CLB staff to finding a pupil")
    go(platform, page, "Een leerling zoeken", CLB_STAFF.name)
    expect(page.get_by_role("heading", level=1)).to_have_text("Een leerling zoeken")
    header_says(page, "Verslagen uitreiken", "Een leerling zoeken")
    checked(page, axe, shots, "finding a pupil, in the shared header")


def test_the_responsible_sees_the_waiting_requests_in_the_menu(platform, new_page, steps, axe):
    page = new_page("nl-BE")
    shots = steps(page, role="school-responsible")
    start(platform, page, RESPONSIBLE_A.name)
    tasks = page.get_by_test_id("tasks")
    expect(tasks.get_by_role("link")).to_have_text(
        ["Toegang beheren", "Leerlingen met een verslag"]
    )
    expect(page.get_by_role("main")).not_to_contain_text("uw schoolverantwoordelijke")
    checked(page, axe, shots, "the start page of the responsible")
    go(platform, page, "Toegang beheren", RESPONSIBLE_A.name)
    header_says(page, "Toegangsbeheer", "Toegang beheren")
    waiting = page.get_by_test_id("waiting-requests")
    expect(waiting).to_have_text(re.compile(r"^[1-9]\d* wachtend$"))
    checked(page, axe, shots, "the grants, one request waiting in the menu")
    page.get_by_role("link", name=re.compile("^Aanvragen")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Aanvragen van ondersteuningsnetwerken"
    )
    checked(page, axe, shots, "the waiting request")


def test_a_teacher_reads_a_report_goes_back_and_is_shown_where_to_go_elsewhere(
    platform, new_page, steps, axe
):
    page = new_page("nl-BE")
    shots = steps(page, role="teacher")
    start(platform, page, TEACHER.name)
    expect(page.get_by_test_id("tasks").get_by_role("link")).to_have_text(
        ["Leerlingen met een verslag"]
    )
    checked(page, axe, shots, "the start page of the teacher")
    go(platform, page, "Leerlingen met een verslag", TEACHER.name)
    header_says(page, "Verslagen inkijken", "Leerlingen met een verslag")
    expect(page.get_by_role("main")).not_to_contain_text("Verslag van uw kind")
    to_school_b(page)
    checked(page, axe, shots, "the pupils with a report")
    page.get_by_role("link", name=MILA.name).click()
    expect(page.locator(".watermark span").first).to_contain_text(TEACHER.name)
    header_says(page, "Verslagen inkijken")
    checked(page, axe, shots, "the report, in the shared header")
    page.get_by_role("link", name="Terug naar de leerlingen met een verslag").click()
    expect(page.get_by_role("link", name=MILA.name)).to_be_visible()

    page.goto(platform.reports + "/clb/pupils")
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    places = page.get_by_test_id("places")
    expect(places).to_contain_text("Waar u met uw rol terechtkunt")
    checked(page, axe, shots, "nothing for a teacher here, and where to go")
    places.get_by_role("link", name="Leerlingen met een verslag").click()
    to_school_b(page)


def test_a_support_worker_is_never_told_of_their_own_report(platform, new_page, steps, axe):
    page = new_page("nl-BE")
    shots = steps(page, role="support-worker")
    start(platform, page, SUPPORT_WORKER.name)
    checked(page, axe, shots, "the start page of the support worker")
    go(platform, page, "Leerlingen met een verslag", SUPPORT_WORKER.name)
    main = page.get_by_role("main")
    expect(main).not_to_contain_text("Uw verslag")
    expect(main).not_to_contain_text("Verslag van uw kind")
    checked(page, axe, shots, "no pupils yet, and who grants access")


def test_a_parent_goes_from_the_start_page_to_who_looked(platform, new_page, steps, axe):
    page = new_page("nl-BE")
    shots = steps(page, role="parent")
    start(platform, page, PARENT.name)
    expect(page.get_by_test_id("tasks").get_by_role("link")).to_have_text(["Verslag van uw kind"])
    checked(page, axe, shots, "the start page of the parent")
    go(platform, page, "Verslag van uw kind", PARENT.name)
    expect(page.get_by_role("heading", level=1)).to_have_text("Wie het verslag inzag")
    header_says(page, "Verslagen inkijken", "Verslag van uw kind")
    checked(page, axe, shots, "who looked at the child's report")
