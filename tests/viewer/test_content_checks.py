"""The viewer shows only what it has just allowed: content from the reports service for
another pupil or another version is refused; JSON answers about pupils are not stored."""

from __future__ import annotations

import pytest

from tests.viewer.events import enrolment, grant, insz, issued

pytestmark = pytest.mark.integration

SCHOOL = "100041"
PUPIL, OTHER_PUPIL, TEACHER, DIRECTOR = insz(61), insz(62), insz(761), insz(762)
REPORT = issued(PUPIL, 2, valid_from="2024-09-01", kind="IAC")
NEEDS = "Needs a written plan for every lesson."


@pytest.fixture
def world(cache_state, reports):
    cache_state(enrolment(PUPIL, SCHOOL), REPORT, grant(SCHOOL, TEACHER))
    reports.publish(REPORT, needs=NEEDS)


def views_of(viewer, issuer) -> list:
    return list(viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL)).json())


@pytest.mark.parametrize(
    "answered", [{"pupil_id": OTHER_PUPIL}, {"version": 1}, {"version": 3}, {"pupil_id": None}]
)
def test_content_for_another_pupil_or_version_is_refused_and_not_shown(
    viewer, issuer, world, reports, answered
):
    reports.reports[str(REPORT.report_id)].update(answered)
    page = viewer.get(f"/pupils/{PUPIL}/report", headers=issuer.headers(TEACHER))
    assert page.status_code == 404
    assert NEEDS not in page.text
    assert views_of(viewer, issuer) == []


def test_content_for_the_allowed_pupil_and_version_is_shown(viewer, issuer, world):
    page = viewer.get(f"/pupils/{PUPIL}/report", headers=issuer.headers(TEACHER))
    assert page.status_code == 200 and NEEDS in page.text
    assert len(views_of(viewer, issuer)) == 1


def test_the_json_answers_about_pupils_are_not_stored(viewer, issuer, world):
    views = viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL))
    listing = viewer.get(
        f"/v1/schools/{SCHOOL}/pupils-with-report", headers=issuer.headers(TEACHER)
    )
    for answer in (views, listing):
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
    assert [p["pupil_id"] for p in listing.json()["pupils"]] == [PUPIL]
