"""The viewer's /embed pages without a browser: the frame's own cookie, its sign-in that
only the frame that started it can take, and frames from pages the school did not allow."""

from __future__ import annotations

import base64
import json
import re

import itsdangerous
import pytest

from services.viewer.embed import EMBED_COOKIE
from tests.viewer.events import enrolment, grant, insz, issued

pytestmark = pytest.mark.integration

SCHOOL = "300031"
PUPIL, TEACHER = insz(51), insz(651)
REPORT = issued(PUPIL, 1, valid_from="2024-09-01", kind="GC")
NEEDS = "Needs a calm place to start the day."


@pytest.fixture
def world(cache_state, reports):
    cache_state(enrolment(PUPIL, SCHOOL), REPORT, grant(SCHOOL, TEACHER))
    reports.publish(REPORT, needs=NEEDS)


def signin_page(viewer) -> tuple[str, str, str]:
    """The frame's sign-in page: its cookie, its CSRF token and the state of its sign-in."""
    page = viewer.get(f"/embed/pupils/{PUPIL}/report", params={"school_id": SCHOOL})
    assert page.status_code == 200
    cookie = page.headers["set-cookie"]
    value = re.match(rf"{EMBED_COOKIE}=([^;]+);", cookie)
    assert value is not None
    csrf = re.search(r'data-csrf="([^"]+)"', page.text)
    state = re.search(r"state=([A-Za-z0-9_-]+)", page.text)
    assert csrf is not None and state is not None
    return value.group(1), csrf.group(1), state.group(1)


def handoff(viewer, viewer_settings, issuer, state: str) -> str:
    """What the popup hands to the frame after the person signed in there."""
    session = {"user": {"claims": {"sub": TEACHER}, "access_token": issuer.token(TEACHER)}}
    signer = itsdangerous.TimestampSigner(viewer_settings.session_secret)
    signed = signer.sign(base64.b64encode(json.dumps(session).encode())).decode()
    page = viewer.get(
        "/embed/signin/done", params={"state": state}, headers={"Cookie": f"iris_session={signed}"}
    )
    assert page.status_code == 200, page.text
    found = re.search(r'data-handoff="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_a_frame_without_a_person_offers_the_sign_in_with_a_cookie_sent_in_cross_site_frames(
    viewer, world
):
    page = viewer.get(f"/embed/pupils/{PUPIL}/report", params={"school_id": SCHOOL})
    assert NEEDS not in page.text
    assert "/embed/signin/done?state=" in page.text
    cookie = page.headers["set-cookie"]
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/embed"):
        assert attribute in cookie
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors https://school-software.example" in csp


def test_the_frame_takes_the_popup_s_sign_in_only_with_its_csrf_token_and_state(
    viewer, viewer_settings, issuer, world
):
    cookie, csrf, state = signin_page(viewer)
    code = handoff(viewer, viewer_settings, issuer, state)
    jar = {"Cookie": f"{EMBED_COOKIE}={cookie}"}

    no_csrf = viewer.post("/embed/session", data={"code": code}, headers=jar)
    assert no_csrf.status_code == 403
    _other_cookie, _other_csrf, other_state = signin_page(viewer)
    elsewhere = handoff(viewer, viewer_settings, issuer, other_state)
    wrong_state = viewer.post(
        "/embed/session", data={"code": elsewhere}, headers={**jar, "X-CSRF-Token": csrf}
    )
    assert wrong_state.status_code == 403
    forged = viewer.post(
        "/embed/session", data={"code": code + "x"}, headers={**jar, "X-CSRF-Token": csrf}
    )
    assert forged.status_code == 403

    taken = viewer.post(
        "/embed/session", data={"code": code}, headers={**jar, "X-CSRF-Token": csrf}
    )
    assert taken.status_code == 204
    signed_in = re.match(rf"{EMBED_COOKIE}=([^;]+);", taken.headers["set-cookie"])
    assert signed_in is not None
    report = viewer.get(
        f"/embed/pupils/{PUPIL}/report",
        params={"school_id": SCHOOL},
        headers={"Cookie": f"{EMBED_COOKIE}={signed_in.group(1)}"},
    )
    assert report.status_code == 200 and NEEDS in report.text
    views = viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL)).json()
    assert [v["channel"] for v in views] == ["embedded"]


def test_a_frame_on_a_page_the_school_did_not_allow_shows_nothing_and_records_no_view(
    viewer, issuer, world
):
    framed = viewer.get(
        f"/embed/pupils/{PUPIL}/report",
        params={"school_id": SCHOOL},
        headers={
            **issuer.headers(TEACHER),
            "Sec-Fetch-Dest": "iframe",
            "Referer": "https://elsewhere.example/pupil",
        },
    )
    assert framed.status_code == 403 and NEEDS not in framed.text
    assert viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL)).json() == []


def test_a_launch_handle_that_is_not_the_viewer_s_opens_nothing(viewer, issuer, world):
    page = viewer.get("/embed/report", params={"launch": "gAAAAnot-a-handle"})
    assert page.status_code == 404 and NEEDS not in page.text
