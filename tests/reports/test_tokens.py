"""Who may call the reports service: the JWT matrix on the CLB staff's API and on the
viewer's internal content route."""

from __future__ import annotations

import pytest

from tests.reports.conftest import CLB, STAFF, Reports, new_pupil
from tests.tokens import AMR_CASES, MATRIX, SIGNATURE_CASES, bearer, forged


@pytest.mark.parametrize("case", MATRIX)
def test_every_forged_misdirected_stale_or_weak_token_is_refused_with_401(
    reports: Reports, case: str
):
    pupil = new_pupil()
    path = f"/v1/pupils/{pupil}/reports"
    assert reports.client.get(path, headers=reports.staff()).status_code == 200
    token = forged(reports.issuer, case, STAFF, clb_staff_of=[CLB])
    answer = reports.client.get(path, headers=bearer(token))
    assert answer.status_code == 401, answer.text


@pytest.mark.parametrize("case", SIGNATURE_CASES)
def test_the_internal_content_route_refuses_the_same_tokens_with_401(reports: Reports, case: str):
    report = reports.issue(new_pupil(), valid_from="2026-09-01")
    path = f"/internal/reports/{report['report_id']}"
    assert reports.client.get(path, headers=reports.viewer()).status_code == 200
    token = forged(
        reports.issuer, case, "service:viewer", audience="iris-internal", service="viewer"
    )
    assert reports.client.get(path, headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("case", AMR_CASES)
def test_the_internal_content_route_is_for_the_viewers_service_token_only(
    reports: Reports, case: str
):
    report = reports.issue(new_pupil(), valid_from="2026-09-01")
    path = f"/internal/reports/{report['report_id']}"
    # CLB staff (itsme or not) and another service are refused
    staff_internal = reports.issuer.headers(STAFF, audience="iris-internal", clb_staff_of=[CLB])
    assert reports.client.get(path, headers=staff_internal).status_code in (401, 403)
    other = reports.issuer.service("access")
    assert reports.client.get(path, headers=other).status_code == 403
    weak = forged(reports.issuer, case, STAFF, audience="iris-internal", clb_staff_of=[CLB])
    assert reports.client.get(path, headers=bearer(weak)).status_code == 401
