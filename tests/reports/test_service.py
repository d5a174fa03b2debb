"""The report register's use cases against the in-memory repository (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from iris.insz import make_insz
from services.reports import domain, service
from tests.reports.fakes import FakeReportRepository

PUPIL = make_insz("2013-05-06", 12)
CLB, OTHER_CLB = "105262", "105270"
STAFF = make_insz("1980-04-12", 17)
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CONTENT = domain.Content("needs", "advice", "measures", "reasoning")


def request(
    valid_from: date = date(2026, 9, 1), retry: domain.Retry | None = None
) -> service.IssueRequest:
    return service.IssueRequest(
        pupil_id=PUPIL,
        clb_id=CLB,
        placement=domain.check_placement("GC", None, None, "primary"),
        valid_from=valid_from,
        content=CONTENT,
        issued_by=STAFF,
        retry=retry,
    )


def test_each_issue_is_the_next_version_and_queues_its_metadata_only() -> None:
    repo = FakeReportRepository()
    first = service.issue(repo, request(), NOW).report
    second = service.issue(repo, request(date(2026, 10, 1)), NOW).report
    assert (first.version, second.version) == (1, 2)
    assert [e.sequence for _key, e in repo.published] == [1, 2]
    assert [e.type for _key, e in repo.published] == ["ReportIssued", "ReportIssued"]
    assert all("needs" not in e.model_dump_json() for _key, e in repo.published)
    assert domain.current(repo.versions_of(PUPIL), date(2026, 11, 28)) == second


def test_a_retry_with_the_same_key_and_request_finds_the_first_report() -> None:
    repo = FakeReportRepository()
    first = service.issue(repo, request(retry=domain.Retry("k1", "digest")), NOW)
    again = service.issue(repo, request(retry=domain.Retry("k1", "digest")), NOW)
    assert first.created and not again.created
    assert again.report == first.report
    assert len(repo.published) == 1


def test_the_same_key_with_another_request_is_refused() -> None:
    repo = FakeReportRepository()
    service.issue(repo, request(retry=domain.Retry("k1", "digest")), NOW)
    with pytest.raises(domain.ReportRuleBroken) as refused:
        service.issue(repo, request(retry=domain.Retry("k1", "other")), NOW)
    assert (refused.value.field, refused.value.status) == ("Idempotency-Key", 409)


def test_withdrawing_lifts_the_current_report_once() -> None:
    repo = FakeReportRepository()
    report = service.issue(repo, request(), NOW).report
    today = date(2026, 11, 28)
    done = service.withdraw(repo, report.report_id, frozenset({CLB}), STAFF, NOW, today)
    again = service.withdraw(repo, report.report_id, frozenset({CLB}), STAFF, NOW, today)
    assert done.changed and not again.changed
    assert done.report.withdrawn_on == today and done.report.withdraw_sequence == 2
    assert domain.current(repo.versions_of(PUPIL), today) is None
    assert [e.type for _key, e in repo.published] == ["ReportIssued", "ReportWithdrawn"]


def test_only_staff_of_the_issuing_clb_may_withdraw_and_an_unknown_report_is_404() -> None:
    repo = FakeReportRepository()
    report = service.issue(repo, request(), NOW).report
    with pytest.raises(domain.ReportRuleBroken) as refused:
        service.withdraw(repo, report.report_id, frozenset({OTHER_CLB}), STAFF, NOW, NOW.date())
    assert refused.value.status == 403
    with pytest.raises(domain.ReportRuleBroken) as unknown:
        service.withdraw(repo, uuid.uuid4(), frozenset({CLB}), STAFF, NOW, NOW.date())
    assert unknown.value.status == 404


def test_content_is_served_only_for_the_current_report() -> None:
    repo = FakeReportRepository()
    old = service.issue(repo, request(date(2026, 9, 1)), NOW).report
    new = service.issue(repo, request(date(2026, 12, 1)), NOW).report
    before, after = date(2026, 11, 30), date(2026, 12, 1)
    assert service.current_content(repo, old.report_id, before) == (old, CONTENT)
    assert service.current_content(repo, new.report_id, before) is None  # not yet
    assert service.current_content(repo, old.report_id, after) is None  # superseded
    assert service.current_content(repo, new.report_id, after) == (new, CONTENT)


def test_republish_queues_every_change_again_in_sequence_order() -> None:
    repo = FakeReportRepository()
    first = service.issue(repo, request(), NOW).report
    service.issue(repo, request(date(2026, 10, 1)), NOW)
    service.withdraw(repo, first.report_id, frozenset({CLB}), STAFF, NOW, NOW.date())
    repo.published.clear()
    assert service.republish(repo) == 3
    assert [(e.type, e.sequence) for _key, e in repo.published] == [
        ("ReportIssued", 1),
        ("ReportIssued", 2),
        ("ReportWithdrawn", 3),
    ]
