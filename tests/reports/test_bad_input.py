import uuid
from typing import Any

import pytest

from services.reports.domain import SECTION_MAX_CHARS
from tests.reports.conftest import CLB, OTHER_CLB, OTHER_STAFF, Reports, new_pupil, report_body

pytestmark = pytest.mark.integration


def content(**sections: str) -> dict[str, str]:
    return {**report_body()["content"], **sections}


def test_each_bad_input_gets_a_clear_4xx_naming_the_field_and_changes_nothing(reports: Reports):
    pupil = new_pupil()
    existing = reports.issue(pupil)
    reports.events_of(pupil, 1)
    before = reports.counts()
    staff = reports.staff()
    other_clb = reports.staff(OTHER_CLB, sub=OTHER_STAFF)
    issue_url = f"/v1/pupils/{pupil}/reports"
    withdraw_url = f"/v1/reports/{existing['report_id']}/withdraw"

    cases: list[tuple[str, str, str, dict[str, str], dict[str, Any] | None, int, str | None]] = [
        ("a wrong INSZ", "POST", "/v1/pupils/12345678901/reports", staff, report_body(), 422,
         "pupil_id"),
        ("an INSZ of letters", "POST", "/v1/pupils/abc/reports", staff, report_body(), 422,
         "pupil_id"),
        ("an unknown kind", "POST", issue_url, staff, report_body(kind="VERSLAG"), 422, "kind"),
        ("an IAC without type", "POST", issue_url, staff, report_body(type=None), 422, "type"),
        ("an OV4 with opleidingsvorm 3", "POST", issue_url, staff,
         report_body(kind="OV4", opleidingsvorm=3, level=None), 422, "opleidingsvorm"),
        ("basisaanbod in nursery", "POST", issue_url, staff,
         report_body(type="basisaanbod", level="nursery"), 422, "type"),
        ("an opleidingsvorm in primary", "POST", issue_url, staff,
         report_body(opleidingsvorm=2), 422, "opleidingsvorm"),
        ("an unknown type", "POST", issue_url, staff, report_body(type="8"), 422, "type"),
        ("an oversize section", "POST", issue_url, staff,
         report_body(content=content(needs="x" * (SECTION_MAX_CHARS + 1))), 422, "content.needs"),
        ("a section with a NUL byte", "POST", issue_url, staff,
         report_body(content=content(advice="a\x00b")), 422, "content.advice"),
        ("a missing section", "POST", issue_url, staff,
         report_body(content={"needs": "n", "advice": "a", "reasoning": "r"}), 422,
         "content.measures_taken"),
        ("valid_from not a date", "POST", issue_url, staff,
         report_body(valid_from="next monday"), 422, "valid_from"),
        ("valid_from an impossible date", "POST", issue_url, staff,
         report_body(valid_from="2026-02-30"), 422, "valid_from"),
        ("valid_from a date-time", "POST", issue_url, staff,
         report_body(valid_from="2026-09-01T00:00:00"), 422, "valid_from"),
        ("an unknown field", "POST", issue_url, staff, report_body(author="x"), 422, "author"),
        ("staff of another CLB issuing", "POST", issue_url, other_clb, report_body(), 403,
         "clb_id"),
        ("someone who is not CLB staff", "POST", issue_url,
         reports.issuer.headers("84022512345", school_admin_of=["123456"]), report_body(), 403,
         None),
        ("no token", "POST", issue_url, {}, report_body(), 401, None),
        ("staff of another CLB withdrawing", "POST", withdraw_url, other_clb, None, 403,
         "report_id"),
        ("withdrawing an unknown report", "POST", f"/v1/reports/{uuid.uuid4()}/withdraw", staff,
         None, 404, "report_id"),
        ("withdrawing a malformed report id", "POST", "/v1/reports/42/withdraw", staff, None, 422,
         "report_id"),
    ]  # fmt: skip
    for what, method, url, headers, body, status, field in cases:
        answer = reports.client.request(method, url, headers=headers, json=body)
        assert answer.status_code == status, f"{what}: {answer.status_code} {answer.text}"
        assert "detail" in answer.json(), what
        if field is not None:
            assert field in answer.json()["fields"], f"{what}: {answer.text}"
        assert reports.counts() == before, what

    marker = reports.issue(pupil, valid_from="2026-10-01")
    events = reports.events_of(pupil, 2)
    assert [(e["type"], e["report_id"]) for e in events] == [
        ("ReportIssued", existing["report_id"]),
        ("ReportIssued", marker["report_id"]),
    ]
    assert [v["withdrawn"] for v in reports.history(pupil)] == [False, False]
    assert CLB in {e["clb_id"] for e in events}
