"""The viewer's pages for people, over HTTP in-process against real Redis and SQL: the
staff's pupils with a report, the views for the school responsible and for a parent,
and the report page reached from a browser session."""

from __future__ import annotations

import re

import pytest

from iris.insz import mask_insz
from tests.viewer.events import enrolment, grant, insz, issued

pytestmark = pytest.mark.integration

SCHOOL, OTHER_SCHOOL = "100001", "100002"
LOTTE, MILAN, NOOR, UNREPORTED = insz(21), insz(22), insz(23), insz(24)
TEACHER, COORDINATOR, DIRECTOR, PARENT = insz(701), insz(702), insz(703), insz(704)
LOTTE_REPORT = issued(LOTTE, 1, valid_from="2024-09-01", kind="GC")
MILAN_REPORT = issued(MILAN, 1, valid_from="2025-02-01", kind="OV4")
NOOR_REPORT = issued(NOOR, 1, valid_from="2024-09-01", kind="IAC")
HTML = {"Accept": "text/html"}


@pytest.fixture
def world(cache_state, reports):
    cache_state(
        enrolment(LOTTE, SCHOOL, name="Lotte Peeters"),
        enrolment(MILAN, SCHOOL, name="Milan Maes"),
        enrolment(UNREPORTED, SCHOOL, name="Zoë Claes"),
        enrolment(NOOR, OTHER_SCHOOL, name="Noor Jacobs"),
        LOTTE_REPORT,
        MILAN_REPORT,
        NOOR_REPORT,
        grant(SCHOOL, TEACHER, pupils=[LOTTE, UNREPORTED]),
        grant(SCHOOL, COORDINATOR, role="care_coordinator"),
        grant(OTHER_SCHOOL, COORDINATOR, role="care_coordinator"),
    )
    reports.publish(LOTTE_REPORT, needs="Needs a quiet corner.")
    reports.publish(NOOR_REPORT, needs="Needs short instructions.")


def as_(issuer, person, language="nl", **claims):
    return {**issuer.headers(person, **claims), **HTML, "Accept-Language": language}


def test_staff_see_the_pupils_with_a_report_that_their_grant_covers(viewer, issuer, world):
    page = viewer.get(f"/schools/{SCHOOL}/pupils", headers=as_(issuer, TEACHER))
    assert page.status_code == 200
    assert "Lotte Peeters" in page.text and "GC-verslag" in page.text
    assert "1 september 2024" in page.text
    assert f'href="/pupils/{LOTTE}/report?school_id={SCHOOL}"' in page.text
    assert "Milan Maes" not in page.text  # not in the teacher's grant
    assert "Zoë Claes" not in page.text  # no report


def test_the_pupils_are_searchable_by_name(viewer, issuer, world):
    headers = as_(issuer, COORDINATOR, "en")
    found = viewer.get(f"/schools/{SCHOOL}/pupils?q=maes", headers=headers)
    assert "Milan Maes" in found.text and "Lotte Peeters" not in found.text
    assert "OV4 report" in found.text
    nothing = viewer.get(f"/schools/{SCHOOL}/pupils?q=nobody", headers=headers)
    assert "No pupil with a report matches." in nothing.text


def test_staff_granted_at_several_schools_pick_one_and_at_one_go_straight_on(viewer, issuer, world):
    several = viewer.get("/schools", headers=as_(issuer, COORDINATOR))
    assert f'href="/schools/{SCHOOL}/pupils"' in several.text
    assert f'href="/schools/{OTHER_SCHOOL}/pupils"' in several.text
    one = viewer.get("/schools", headers=as_(issuer, TEACHER), follow_redirects=False)
    assert one.status_code == 303 and one.headers["location"] == f"/schools/{SCHOOL}/pupils"
    none = viewer.get(f"/schools/{OTHER_SCHOOL}/pupils", headers=as_(issuer, TEACHER))
    assert none.status_code == 403


def test_the_start_and_school_pages_are_not_available_while_the_cache_is_not_ready(
    viewer, issuer, cache_state
):
    cache_state(grant(SCHOOL, COORDINATOR, role="care_coordinator"), ready=False)
    for path in ("/", "/schools"):
        page = viewer.get(path, headers=as_(issuer, COORDINATOR, "en"))
        assert page.status_code == 503
        assert "Not available for a moment" in page.text
        assert SCHOOL not in page.text


def test_a_browser_without_a_session_is_sent_to_sign_in_while_an_api_caller_gets_401(viewer, world):
    browser = viewer.get(f"/pupils/{LOTTE}/report", headers=HTML, follow_redirects=False)
    assert browser.status_code == 303
    assert "/auth/login?next=" in browser.headers["location"]
    assert viewer.get(f"/pupils/{LOTTE}/report").status_code == 401


def test_the_report_page_speaks_english_when_asked_and_keeps_its_strict_policy(
    viewer, issuer, world
):
    page = viewer.get(
        f"/pupils/{LOTTE}/report", headers=as_(issuer, TEACHER, "en", name="Els Maes")
    )
    assert page.status_code == 200
    assert "GC report" in page.text and "Needs a quiet corner." in page.text
    assert "This report may not be printed." in page.text
    assert "Els Maes" in page.text and mask_insz(TEACHER) in page.text
    assert "form-action 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    listing = viewer.get(f"/schools/{SCHOOL}/pupils", headers=as_(issuer, TEACHER))
    assert "form-action 'self'" in listing.headers["content-security-policy"]
    assert listing.headers["cache-control"] == "no-store"


def test_the_responsible_sees_who_viewed_which_pupils_report_at_their_school_only(
    viewer, issuer, world
):
    viewer.get(f"/pupils/{LOTTE}/report", headers=as_(issuer, TEACHER, name="Els Maes"))
    viewer.get(f"/pupils/{NOOR}/report", headers=as_(issuer, COORDINATOR, name="Kris Wouters"))
    mine = viewer.get(
        f"/schools/{SCHOOL}/views", headers=as_(issuer, DIRECTOR, school_admin_of=[SCHOOL])
    )
    assert mine.status_code == 200
    row = r"<tr>\s*<td>Lotte Peeters</td>\s*<td>Els Maes</td>\s*<td>Leraar</td>"
    assert re.search(row, mine.text), mine.text
    assert "Noor Jacobs" not in mine.text and "Kris Wouters" not in mine.text
    other = viewer.get(
        f"/schools/{OTHER_SCHOOL}/views", headers=as_(issuer, DIRECTOR, school_admin_of=[SCHOOL])
    )
    assert other.status_code == 403


def test_a_parent_sees_who_looked_at_their_childs_report_when_and_in_what_role(
    viewer, issuer, world
):
    viewer.get(f"/pupils/{LOTTE}/report", headers=as_(issuer, TEACHER, name="Els Maes"))
    page = viewer.get("/my/views", headers=as_(issuer, PARENT, "en", parent_of=[LOTTE]))
    assert page.status_code == 200
    assert "<h2" in page.text and "Lotte Peeters" in page.text
    assert "Els Maes" in page.text and "Teacher" in page.text and SCHOOL in page.text
    assert TEACHER not in page.text
    stranger = viewer.get("/my/views", headers=as_(issuer, insz(705), "en"))
    assert "Els Maes" not in stranger.text
