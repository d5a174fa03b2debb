"""Who may call the viewer: the JWT matrix on its API and its report page, and a
browser session whose token does not say itsme or eID."""

from __future__ import annotations

import base64
import json

import itsdangerous
import pytest

from iris.ui.session import SESSION_COOKIE
from tests.tokens import MATRIX, bearer, forged
from tests.viewer.events import enrolment, grant, insz, issued

pytestmark = pytest.mark.integration

SCHOOL = "100031"
PUPIL, TEACHER = insz(51), insz(751)
REPORT = issued(PUPIL, 1, valid_from="2024-09-01", kind="GC")


@pytest.fixture
def world(cache_state, reports):
    cache_state(enrolment(PUPIL, SCHOOL), REPORT, grant(SCHOOL, TEACHER))
    reports.publish(REPORT, needs="Needs a seat near the door.")


@pytest.mark.parametrize("case", MATRIX)
def test_every_forged_misdirected_stale_or_weak_token_is_refused_with_401(
    viewer, issuer, world, case
):
    views = f"/v1/pupils/{PUPIL}/views"
    assert viewer.get(views, headers=issuer.headers(PUPIL)).status_code == 200
    assert viewer.get(views, headers=bearer(forged(issuer, case, PUPIL))).status_code == 401

    page = f"/pupils/{PUPIL}/report"
    assert viewer.get(page, headers=issuer.headers(TEACHER)).status_code == 200
    refused = viewer.get(page, headers=bearer(forged(issuer, case, TEACHER)))
    assert refused.status_code == 401
    assert "seat near the door" not in refused.text


@pytest.mark.parametrize("amr", [None, ["pwd"]])
def test_a_browser_session_without_itsme_or_eid_is_sent_to_sign_in(
    viewer, viewer_settings, issuer, world, amr
):
    token = issuer.token(TEACHER, amr=amr)
    session = {"user": {"claims": {"sub": TEACHER}, "access_token": token}, "csrf": "c" * 43}
    signer = itsdangerous.TimestampSigner(viewer_settings.session_secret)
    viewer.cookies.set(
        SESSION_COOKIE, signer.sign(base64.b64encode(json.dumps(session).encode())).decode()
    )
    headers = {"Accept": "text/html", "Sec-Fetch-Site": "same-origin"}
    answer = viewer.get(f"/pupils/{PUPIL}/report", headers=headers, follow_redirects=False)
    assert answer.status_code == 303
    assert "/auth/login" in answer.headers["location"]
