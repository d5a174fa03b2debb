"""The viewer's HTTP side against real Redis, SQL and the broker, with a stand-in for
the reports service's internal content API."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from fastapi.testclient import TestClient

from iris.contracts import VIEWER_AUDIT
from iris.insz import mask_insz
from services.viewer.api import create_app
from services.viewer.cache import READY_KEY
from tests.support import TopicReader
from tests.viewer.events import enrolment, grant, insz, issued, withdrawn

pytestmark = pytest.mark.integration

SCHOOL, OTHER_SCHOOL = "100001", "100002"
PUPIL, OTHER_PUPIL, UNREPORTED = insz(11), insz(12), insz(13)
TEACHER, STRANGER, DIRECTOR, PARENT = insz(601), insz(602), insz(603), insz(604)
REPORT = issued(PUPIL, 1, valid_from="2024-09-01", kind="OV4")
OTHER_REPORT = issued(OTHER_PUPIL, 1, valid_from="2024-09-01")


@pytest.fixture
def world(cache_state, reports):
    cache_state(
        enrolment(PUPIL, SCHOOL, name="Lotte"),
        enrolment(OTHER_PUPIL, SCHOOL, name="Milan"),
        enrolment(UNREPORTED, SCHOOL),
        REPORT,
        OTHER_REPORT,
        grant(SCHOOL, TEACHER, pupils=[PUPIL, UNREPORTED]),
    )
    reports.publish(REPORT, needs="Needs a quiet corner during tests.")
    reports.publish(OTHER_REPORT)


def teacher(issuer, **extra):
    return issuer.headers(TEACHER, name="An Peeters", **extra)


def test_a_granted_teacher_sees_the_current_report_as_a_view_only_page(viewer, issuer, world):
    page = viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Needs a quiet corner during tests." in page.text
    assert "OV4-verslag" in page.text
    assert "An Peeters" in page.text and mask_insz(TEACHER) in page.text
    assert TEACHER not in page.text  # only the masked INSZ is shown
    # no more than its last two digits: not the birth date
    assert f"{TEACHER[:2]}.{TEACHER[2:4]}.{TEACHER[4:6]}" not in page.text
    assert f"{PUPIL[:2]}.{PUPIL[2:4]}.{PUPIL[4:6]}" not in page.text


def test_the_page_is_not_stored_not_framed_and_loads_nothing_from_elsewhere(viewer, issuer, world):
    page = viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer))
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "content-disposition" not in page.headers


def test_the_page_offers_no_download_no_link_to_itself_and_no_script(viewer, issuer, world):
    html = viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer)).text
    assert "<script" not in html
    assert "download" not in html.lower()
    # the links are the header's and the way back: none leads to the report again
    links = re.findall(r"<a\s[^>]*href=\"([^\"]*)\"", html)
    assert "/schools" in links and "/auth/logout" in links
    assert not any(PUPIL in link or "report" in link for link in links)
    assert '<link rel="stylesheet" href="/static/viewer.css">' in html
    css = viewer.get("/static/viewer.css").text
    assert "@media print" in css and "display: none !important" in css


def test_the_embedded_page_may_be_framed_by_the_configured_school_software_only(
    viewer, issuer, world
):
    page = viewer.get(f"/embed/pupils/{PUPIL}/report", headers=teacher(issuer))
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors https://school-software.example" in csp
    assert "x-frame-options" not in page.headers


def test_a_denial_looks_the_same_whether_the_pupil_is_unknown_unreported_or_not_covered(
    viewer, issuer, world
):
    answers = [
        viewer.get(f"/pupils/{pupil}/report", headers=teacher(issuer))
        for pupil in (insz(99), UNREPORTED, OTHER_PUPIL, "not-an-insz")
    ]
    answers.append(viewer.get(f"/pupils/{PUPIL}/report", headers=issuer.headers(STRANGER)))
    assert {a.status_code for a in answers} == {404}
    # the same page for the same person (the header names who is signed in)
    assert len({a.text for a in answers[:-1]}) == 1
    assert "quiet corner" not in answers[0].text


def test_every_denial_and_every_view_is_published_on_the_audit_topic(viewer, issuer, world, infra):
    since = int(time.time() * 1000)  # the records of this test's requests, not earlier tests'
    viewer.get(f"/pupils/{OTHER_PUPIL}/report", headers=teacher(issuer))
    viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer))
    reader = TopicReader(infra.kafka_bootstrap, VIEWER_AUDIT.name)
    try:
        messages = reader.read_until(
            lambda ms: (
                {m.value["type"] for m in ms if _about(m, PUPIL, OTHER_PUPIL, since=since)}
                >= {"ReportViewed", "AccessDenied"}
            ),
            message="a view and a denial on the audit topic",
        )
    finally:
        reader.close()
    denial = next(m for m in messages if _about(m, OTHER_PUPIL, kind="AccessDenied", since=since))
    assert denial.key == denial.value["event_id"]  # one key per record, no INSZ in it
    assert denial.value["person_id"] == TEACHER
    assert denial.value["reason"] == "grant does not cover this pupil"
    viewed = next(m for m in messages if _about(m, PUPIL, kind="ReportViewed", since=since))
    assert viewed.key == viewed.value["view_id"]
    view = viewed.value
    assert (view["school_id"], view["role"], view["version"], view["channel"]) == (
        SCHOOL,
        "teacher",
        1,
        "web",
    )
    assert "content" not in view and "needs" not in str(view)


def test_every_page_served_is_one_view_record_whatever_key_the_client_sends(viewer, issuer, world):
    for headers in (
        {"Idempotency-Key": "same"},
        {"Idempotency-Key": "same"},
        {"Idempotency-Key": "same"},
        {"X-Request-Id": "same"},
        {"X-Request-Id": "same"},
        {},
    ):
        page = viewer.get(f"/pupils/{PUPIL}/report", headers={**teacher(issuer), **headers})
        assert page.status_code == 200 and "quiet corner" in page.text
    views = viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL)).json()
    assert len(views) == 6
    assert len({v["view_id"] for v in views}) == 6
    assert {(v["person_id"], v["role"], v["school_id"], v["version"]) for v in views} == {
        (TEACHER, "teacher", SCHOOL, 1)
    }


def test_a_second_view_of_the_same_report_is_recorded_too(viewer, issuer, world, reports):
    for _ in ("first", "second"):
        page = viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer))
        assert page.status_code == 200 and "quiet corner" in page.text
    views = viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL)).json()
    assert len(views) == 2
    # the content of a version does not change: it was fetched once
    assert reports.requests.count(f"/internal/reports/{REPORT.report_id}") == 1


def test_a_withdrawn_report_is_denied_even_though_its_content_was_cached(
    viewer, issuer, world, cache_state
):
    assert viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer)).status_code == 200
    cache_state(withdrawn(PUPIL, REPORT.report_id, 1, on="2025-01-01"))
    page = viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer))
    assert page.status_code == 404 and "quiet corner" not in page.text


def test_a_revoked_grant_is_denied_even_though_the_content_was_cached(
    viewer, issuer, world, cache_state
):
    assert viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer)).status_code == 200
    cache_state(grant(SCHOOL, TEACHER, pupils=[PUPIL], status="revoked", version=2))
    page = viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer))
    assert page.status_code == 404 and "quiet corner" not in page.text


def test_views_made_at_the_same_time_are_each_recorded(viewer, issuer, world):
    def view(n: int) -> int:
        return viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer)).status_code

    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(view, range(24))) == [200] * 24
    views = viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL)).json()
    assert len(views) == 24


def test_views_are_shown_to_the_pupil_a_parent_and_the_school_responsible_only(
    viewer, issuer, world
):
    viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer))
    path = f"/v1/pupils/{PUPIL}/views"
    for allowed in (
        issuer.headers(PUPIL),
        issuer.headers(PARENT, parent_of=[PUPIL]),
        issuer.headers(DIRECTOR, school_admin_of=[SCHOOL]),
    ):
        answer = viewer.get(path, headers=allowed)
        assert answer.status_code == 200
        assert [v["person_name"] for v in answer.json()] == ["An Peeters"]
    for refused in (
        teacher(issuer),
        issuer.headers(DIRECTOR, school_admin_of=[OTHER_SCHOOL]),
        issuer.school_client(SCHOOL),
    ):
        assert viewer.get(path, headers=refused).status_code == 403


def test_pupils_with_report_flags_pupils_without_any_content(viewer, issuer, world):
    answer = viewer.get(
        f"/v1/schools/{SCHOOL}/pupils-with-report", headers=issuer.school_client(SCHOOL)
    )
    assert answer.status_code == 200
    pupils = answer.json()["pupils"]
    assert {(p["pupil_id"], p["display_name"], p["kind"], p["version"]) for p in pupils} == {
        (PUPIL, "Lotte", "OV4", 1),
        (OTHER_PUPIL, "Milan", "IAC", 1),
    }
    assert "quiet corner" not in answer.text and "content" not in answer.text
    covered = viewer.get(f"/v1/schools/{SCHOOL}/pupils-with-report", headers=teacher(issuer))
    assert [p["pupil_id"] for p in covered.json()["pupils"]] == [PUPIL]


def test_pupils_with_report_is_refused_to_other_schools_and_to_people_without_a_grant(
    viewer, issuer, world
):
    path = f"/v1/schools/{SCHOOL}/pupils-with-report"
    assert viewer.get(path, headers=issuer.school_client(OTHER_SCHOOL)).status_code == 403
    assert viewer.get(path, headers=issuer.headers(STRANGER)).status_code == 403
    assert viewer.get(path).status_code == 401


def test_without_a_valid_token_nothing_is_shown(viewer, issuer, world):
    assert viewer.get(f"/pupils/{PUPIL}/report").status_code == 401
    forged = {"Authorization": "Bearer " + issuer.token(TEACHER, audience="elsewhere")}
    assert viewer.get(f"/pupils/{PUPIL}/report", headers=forged).status_code == 401


def test_a_report_the_reports_service_no_longer_serves_is_denied(viewer, issuer, world, reports):
    reports.reports.clear()
    page = viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer))
    assert page.status_code == 404 and "quiet corner" not in page.text


def test_while_the_cache_is_not_ready_every_check_is_denied_and_readyz_says_so(
    viewer, issuer, world, infra
):
    assert viewer.get("/readyz").status_code == 200
    redis.Redis.from_url(infra.redis_url).delete(READY_KEY)
    ready = viewer.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["problems"]["authorisation cache"] == "authorisation cache not ready"
    assert viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer)).status_code == 404
    listing = viewer.get(
        f"/v1/schools/{SCHOOL}/pupils-with-report", headers=issuer.school_client(SCHOOL)
    )
    assert listing.status_code == 503
    reader = TopicReader(infra.kafka_bootstrap, VIEWER_AUDIT.name)
    try:
        reader.read_until(
            lambda ms: any(
                m.value.get("reason") == "authorisation cache not ready" and _about(m, PUPIL)
                for m in ms
            ),
            message="the denial with its reason",
        )
    finally:
        reader.close()


def test_when_redis_cannot_be_reached_the_viewer_denies(viewer_settings, issuer, world):
    settings = viewer_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(settings)) as viewer:
        assert viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer)).status_code == 404
        assert viewer.get("/readyz").status_code == 503
        listing = viewer.get(
            f"/v1/schools/{SCHOOL}/pupils-with-report", headers=issuer.school_client(SCHOOL)
        )
        assert listing.status_code == 503


def test_the_openapi_of_the_viewer_offers_no_route_that_returns_report_content(viewer):
    spec = viewer.get("/openapi.json").json()
    text = str(spec)
    for field in ("needs", "advice", "measures_taken", "reasoning"):
        assert field not in text


def test_naming_the_school_checks_the_grant_at_that_school_only(viewer, issuer, world):
    page = f"/pupils/{PUPIL}/report"
    assert (
        viewer.get(page, headers=teacher(issuer), params={"school_id": SCHOOL}).status_code == 200
    )
    elsewhere = viewer.get(page, headers=teacher(issuer), params={"school_id": OTHER_SCHOOL})
    assert elsewhere.status_code == 404


def test_republishing_queues_every_recorded_view_again_with_its_view_id(
    viewer_settings, issuer, world, infra
):
    from services.viewer.republish import republish

    with TestClient(create_app(viewer_settings)) as viewer:
        assert viewer.get(f"/pupils/{PUPIL}/report", headers=teacher(issuer)).status_code == 200
        (view,) = viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL)).json()
        assert republish(viewer_settings) == 1
        viewer.app.state.deps.store.relay.notify()
        reader = TopicReader(infra.kafka_bootstrap, VIEWER_AUDIT.name)
        try:
            messages = reader.read_until(
                lambda ms: len({m.value["event_id"] for m in ms if _view_of(m, view)}) == 2,
                message="the view published twice, the second time by republish",
            )
        finally:
            reader.close()
    assert len({m.value["view_id"] for m in messages if _view_of(m, view)}) == 1


def _view_of(message, view) -> bool:
    return _about(message, PUPIL, kind="ReportViewed") and message.key == view["view_id"]


def _about(message, *pupils: str, kind: str | None = None, since: float = 0) -> bool:
    """An audit record about one of these pupils (of this type, produced at or after
    `since`, in ms); a tombstone is none."""
    value = message.value
    return (
        value.get("pupil_id") in pupils
        and kind in (None, value.get("type"))
        and message.timestamp_ms >= since
    )


def test_a_school_that_registers_a_pupil_for_next_school_year_sees_the_report_now(
    viewer, issuer, cache_state, reports
):
    next_school, staff = "100009", insz(509)
    cache_state(
        enrolment(PUPIL, SCHOOL, name="Lotte"),
        enrolment(PUPIL, next_school, start="2099-09-01", name="Lotte"),
        REPORT,
        grant(next_school, staff),
    )
    reports.publish(REPORT, needs="Needs a quiet corner during tests.")
    page = viewer.get(
        f"/pupils/{PUPIL}/report?school_id={next_school}", headers=issuer.headers(staff)
    )
    assert page.status_code == 200 and "Needs a quiet corner during tests." in page.text
    listing = viewer.get(
        f"/v1/schools/{next_school}/pupils-with-report", headers=issuer.school_client(next_school)
    )
    assert [p["pupil_id"] for p in listing.json()["pupils"]] == [PUPIL]


def test_the_report_page_names_the_pupil_as_the_school_registered_them(
    viewer, issuer, cache_state, reports
):
    cache_state(enrolment(PUPIL, SCHOOL, name="Lotte Peeters"), REPORT, grant(SCHOOL, TEACHER))
    reports.publish(REPORT, needs="Needs a quiet corner during tests.")
    page = viewer.get(f"/pupils/{PUPIL}/report", headers=issuer.headers(TEACHER))
    assert page.status_code == 200
    assert f"Lotte Peeters (…{PUPIL[-2:]})" in page.text
    assert PUPIL not in page.text and PUPIL[:6] not in page.text
