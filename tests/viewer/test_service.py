"""The rules of the viewer's audit record, against the record in memory
(tests/viewer/fakes.py); test_api.py and test_pages.py walk the same with SQL and Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from iris.contracts import AccessDenied, ReportViewed
from iris.insz import make_insz
from services.viewer import service
from services.viewer.service import Denial, View
from tests.viewer.fakes import FakeViewerRepository

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LOTTE, NOAH = make_insz("2016-03-14", 121), make_insz("2016-07-02", 233)
AN = make_insz("1985-01-01", 123)
SCHOOL_A, SCHOOL_B = "12345", "67890"
REPORT = "3f8e4c2a-1b6d-4e0f-9a7c-5d2b8e1f0a3c"


def a_view(pupil: str = LOTTE, school: str = SCHOOL_A, minutes: int = 0) -> View:
    return View(
        view_id=service.new_view_id(),
        pupil_id=pupil,
        person_id=AN,
        person_name="An Peeters",
        role="teacher",
        school_id=school,
        report_id=REPORT,
        version=1,
        channel="web",
        viewed_at=NOON + timedelta(minutes=minutes),
    )


def test_a_view_is_recorded_with_its_audit_event_keyed_by_the_view():
    repo, view = FakeViewerRepository(), a_view()

    assert service.record(repo, [view]) == [True]

    assert service.views_of(repo, LOTTE) == [view]
    ((key, event),) = repo.queued
    assert key == view.view_id and isinstance(event, ReportViewed)
    assert str(event.view_id) == view.view_id and event.occurred_at == view.viewed_at
    assert event.pupil_id == LOTTE


def test_a_retried_view_counts_once_in_the_same_batch_and_in_a_later_one():
    repo, view = FakeViewerRepository(), a_view()

    assert service.record(repo, [view, view]) == [True, False]
    assert service.record(repo, [view]) == [False]

    assert len(service.views_of(repo, LOTTE)) == 1
    assert len(repo.queued) == 1


def test_a_denial_is_told_to_the_audit_under_its_own_key_and_kept_but_is_no_view():
    repo = FakeViewerRepository()

    assert service.record(repo, [Denial(AN, LOTTE, "no_grant")]) == [True]

    assert service.views_of(repo, LOTTE) == []
    ((key, event),) = repo.queued
    assert isinstance(event, AccessDenied) and event.reason == "no_grant"
    assert key == str(event.event_id) and event.pupil_id == LOTTE
    assert repo.denials == {key: event}  # what the purge and an erasure tombstone


def test_views_of_a_pupil_are_newest_first_and_only_at_the_schools_asked():
    repo = FakeViewerRepository()
    early, late = a_view(minutes=1), a_view(school=SCHOOL_B, minutes=2)
    service.record(repo, [early, a_view(pupil=NOAH, minutes=3), late])

    assert service.views_of(repo, LOTTE) == [late, early]
    assert service.views_of(repo, LOTTE, {SCHOOL_A}) == [early]
    assert service.views_of(repo, LOTTE, set()) == []


def test_views_at_a_school_keep_the_newest_within_the_limit():
    repo = FakeViewerRepository()
    views = [a_view(pupil=p, minutes=m) for m, p in enumerate([LOTTE, NOAH, LOTTE])]
    service.record(repo, [*views, a_view(school=SCHOOL_B, minutes=9)])

    assert service.views_at_school(repo, SCHOOL_A) == views[::-1]
    assert service.views_at_school(repo, SCHOOL_A, limit=2) == [views[2], views[1]]


def test_republish_queues_every_view_again_oldest_first_under_the_same_keys():
    repo = FakeViewerRepository()
    first, second = a_view(minutes=5), a_view(pupil=NOAH, minutes=1)
    service.record(repo, [first, second, Denial(AN, LOTTE, "no_grant")])
    repo.queued.clear()

    assert service.republish(repo) == 2

    assert [(key, event.pupil_id) for key, event in repo.queued] == [
        (second.view_id, NOAH),
        (first.view_id, LOTTE),
    ]
