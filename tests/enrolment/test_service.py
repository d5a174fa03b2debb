"""The enrolment register's use cases against the in-memory repository (no database)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from iris.contracts import EnrolmentEnded, EnrolmentRegistered
from iris.insz import make_insz
from services.enrolment import domain, service
from tests.enrolment.fakes import FakeEnrolmentRepository

PUPIL = make_insz("2014-03-16", 121)
OLD, NEW = "31112", "47597"
TODAY = date(2026, 8, 20)


def registered(school: str, start: str, **fields: object) -> EnrolmentRegistered:
    return EnrolmentRegistered(
        event_id=uuid.uuid4(),
        pupil_id=PUPIL,
        school_id=school,
        start_date=date.fromisoformat(start),
        source="school software",
        **fields,  # type: ignore[arg-type]
    )


def test_a_registration_elsewhere_ends_the_old_enrolment_the_day_before() -> None:
    repo = FakeEnrolmentRepository()
    service.register(
        repo, domain.Statement(PUPIL, OLD, date(2025, 9, 1), None, "Jan", False), TODAY
    )
    outcome = service.register(
        repo, domain.Statement(PUPIL, NEW, date(2026, 9, 1), None, "Jan", False), TODAY
    )
    assert outcome.changed and outcome.enrolment is not None
    old = repo.enrolments_of(PUPIL, OLD)[0]
    assert old.end_date == date(2026, 8, 31) and old.ended_by_school_change
    assert sorted((c.school_id, c.version) for c in repo.changes) == [(OLD, 1), (OLD, 2), (NEW, 1)]


def test_a_combination_ends_nothing() -> None:
    repo = FakeEnrolmentRepository()
    service.register(repo, domain.Statement(PUPIL, OLD, date(2025, 9, 1), None, None, False), TODAY)
    service.register(repo, domain.Statement(PUPIL, NEW, date(2026, 9, 1), None, None, True), TODAY)
    assert all(e.end_date is None for e in repo.enrolments_of(PUPIL))


def test_restating_a_registration_changes_nothing_and_publishes_nothing() -> None:
    repo = FakeEnrolmentRepository()
    service.register(repo, domain.Statement(PUPIL, OLD, date(2025, 9, 1), None, None, False), TODAY)
    again = service.register(
        repo, domain.Statement(PUPIL, OLD, date(2025, 9, 1), None, None, False), TODAY
    )
    assert not again.changed and len(repo.changes) == 1


def test_a_start_beyond_the_next_school_year_is_refused_naming_start_date() -> None:
    repo = FakeEnrolmentRepository()
    with pytest.raises(domain.EnrolmentRuleBroken) as refused:
        service.register(
            repo, domain.Statement(PUPIL, OLD, date(2028, 9, 1), None, None, False), TODAY
        )
    assert refused.value.field == "start_date" and repo.changes == []


def test_ending_twice_changes_once() -> None:
    repo = FakeEnrolmentRepository()
    service.register(repo, domain.Statement(PUPIL, OLD, date(2025, 9, 1), None, None, False), TODAY)
    first = service.end(repo, PUPIL, OLD, date(2026, 6, 30))
    second = service.end(repo, PUPIL, OLD, date(2026, 6, 30))
    assert first.changed and not second.changed
    assert first.enrolment is not None and first.enrolment.end_date == date(2026, 6, 30)


def test_a_batch_applies_each_submission_once_and_marks_only_the_broken_one() -> None:
    repo = FakeEnrolmentRepository()
    good = registered(OLD, "2025-09-01")
    too_far = registered(NEW, "2028-09-01")
    ended = EnrolmentEnded(
        event_id=uuid.uuid4(),
        pupil_id=PUPIL,
        school_id=OLD,
        end_date=date(2026, 6, 30),
        source="school software",
    )
    results = service.apply_submissions(repo, [good, too_far, ended, good], TODAY)
    assert isinstance(results[1], domain.EnrolmentRuleBroken)
    outcomes = [r for r in results if isinstance(r, service.Outcome)]
    assert [o.changed for o in outcomes] == [True, True, False]  # the redelivery: nothing
    assert repo.enrolments_of(PUPIL, OLD)[0].end_date == date(2026, 6, 30)
    again = service.apply_submissions(repo, [good, ended], TODAY)
    assert again == [service.Outcome(None, False), service.Outcome(None, False)]


def test_republish_queues_every_enrolment_as_it_stands() -> None:
    repo = FakeEnrolmentRepository()
    service.register(repo, domain.Statement(PUPIL, OLD, date(2025, 9, 1), None, None, False), TODAY)
    service.register(repo, domain.Statement(PUPIL, NEW, date(2026, 9, 1), None, None, False), TODAY)
    repo.changes.clear()
    assert service.republish(repo) == 2
    assert sorted((c.school_id, c.version) for c in repo.changes) == [(OLD, 2), (NEW, 1)]
