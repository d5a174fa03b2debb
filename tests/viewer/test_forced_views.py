"""A report page reached from another site asks before it shows and records anything: a
link in an e-mail or on another site cannot make a signed-in person "view" a report.
Over HTTP with the session cookie and the `Sec-Fetch-*` headers a browser sends."""

from __future__ import annotations

import base64
import json
import re

import itsdangerous
import pytest

from iris.ui.session import SESSION_COOKIE
from tests.viewer.events import enrolment, grant, insz, issued

pytestmark = pytest.mark.integration

SCHOOL = "100021"
PUPIL, TEACHER = insz(41), insz(741)
REPORT = issued(PUPIL, 1, valid_from="2024-09-01", kind="IAC")
NEEDS = "Needs a calm start of the day."


def navigation(site: str | None) -> dict[str, str]:
    """The headers of a top-level navigation, as Chromium sends them."""
    headers = {"Accept": "text/html", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    if site is not None:
        headers["Sec-Fetch-Site"] = site
    return headers


@pytest.fixture
def signed_in(viewer, viewer_settings, issuer, cache_state, reports):
    """The viewer with a teacher's session cookie, as after signing in."""
    cache_state(enrolment(PUPIL, SCHOOL), REPORT, grant(SCHOOL, TEACHER))
    reports.publish(REPORT, needs=NEEDS)
    token = issuer.token(TEACHER, name="Els Maes")
    session = {"user": {"claims": {"sub": TEACHER}, "access_token": token}, "csrf": "c" * 43}
    signer = itsdangerous.TimestampSigner(viewer_settings.session_secret)
    cookie = signer.sign(base64.b64encode(json.dumps(session).encode())).decode()
    viewer.cookies.set(SESSION_COOKIE, cookie)
    return viewer


def recorded_views(viewer, issuer) -> list[dict]:
    answer = viewer.get(f"/v1/pupils/{PUPIL}/views", headers=issuer.headers(PUPIL))
    assert answer.status_code == 200
    return list(answer.json())


@pytest.mark.parametrize("site", ["cross-site", "none", None])
def test_a_report_reached_from_elsewhere_asks_first_and_only_the_click_is_a_view(
    signed_in, issuer, site
):
    path = f"/pupils/{PUPIL}/report?school_id={SCHOOL}"
    asked = signed_in.get(path, headers=navigation(site))
    assert asked.status_code == 200
    assert NEEDS not in asked.text
    link = re.search(r'<a class="button" href="([^"]+)"', asked.text)
    assert link is not None and link.group(1).replace("&amp;", "&") == path
    assert "frame-ancestors 'none'" in asked.headers["content-security-policy"]
    assert recorded_views(signed_in, issuer) == []

    # the click on that page is a same-origin navigation
    shown = signed_in.get(link.group(1).replace("&amp;", "&"), headers=navigation("same-origin"))
    assert shown.status_code == 200 and NEEDS in shown.text
    assert len(recorded_views(signed_in, issuer)) == 1


def test_a_link_within_iris_opens_the_report_at_once(signed_in, issuer):
    shown = signed_in.get(f"/pupils/{PUPIL}/report", headers=navigation("same-origin"))
    assert shown.status_code == 200 and NEEDS in shown.text
    assert len(recorded_views(signed_in, issuer)) == 1


def test_school_software_with_its_bearer_token_needs_no_confirmation(signed_in, issuer):
    headers = {**issuer.headers(TEACHER, name="Els Maes"), "Accept": "text/html"}
    shown = signed_in.get(f"/pupils/{PUPIL}/report", headers=headers)
    assert shown.status_code == 200 and NEEDS in shown.text
    assert len(recorded_views(signed_in, issuer)) == 1
