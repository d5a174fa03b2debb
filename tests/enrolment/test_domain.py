from datetime import date

import pytest

from services.enrolment import domain
from services.enrolment.domain import Enrolment, EnrolmentRuleBroken

PUPIL = "13050601212"


def test_a_first_registration_creates_version_one():
    new = domain.register(None, domain.Statement(PUPIL, "100", date(2026, 9, 1), None, "Lotte"))
    assert new == Enrolment(PUPIL, "100", date(2026, 9, 1), None, "Lotte", 1)


def test_the_same_facts_again_change_nothing():
    current = Enrolment(PUPIL, "100", date(2026, 9, 1), None, "Lotte", 3)
    assert (
        domain.register(current, domain.Statement(PUPIL, "100", date(2026, 9, 1), None, "Lotte"))
        is None
    )
    assert (
        domain.register(current, domain.Statement(PUPIL, "100", date(2026, 9, 1), None, None))
        is None
    )


def test_a_changed_period_raises_the_version():
    current = Enrolment(PUPIL, "100", date(2026, 9, 1), None, "Lotte", 3)
    new = domain.register(current, domain.Statement(PUPIL, "100", date(2026, 9, 2), None, None))
    assert new is not None and new.version == 4 and new.display_name == "Lotte"


def test_an_end_before_the_start_is_refused_naming_end_date():
    with pytest.raises(EnrolmentRuleBroken) as caught:
        domain.register(
            None, domain.Statement(PUPIL, "100", date(2026, 9, 1), date(2026, 8, 31), None)
        )
    assert caught.value.field == "end_date"
    current = Enrolment(PUPIL, "100", date(2026, 9, 1), None, None, 1)
    with pytest.raises(EnrolmentRuleBroken):
        domain.end(current, date(2026, 8, 1))


def test_ending_an_enrolment_that_does_not_exist_is_refused():
    with pytest.raises(EnrolmentRuleBroken) as caught:
        domain.end(None, date(2027, 6, 30))
    assert caught.value.status == 404


def test_ending_twice_on_the_same_day_changes_nothing():
    current = Enrolment(PUPIL, "100", date(2026, 9, 1), None, None, 1)
    ended = domain.end(current, date(2027, 1, 31))
    assert ended is not None and ended.version == 2
    assert domain.end(ended, date(2027, 1, 31)) is None


def test_a_pupil_who_changes_school_is_enrolled_at_both_while_the_periods_overlap():
    old = Enrolment(PUPIL, "100", date(2025, 9, 1), date(2027, 1, 31), None, 2)
    new = Enrolment(PUPIL, "200", date(2027, 1, 30), None, None, 1)
    assert domain.schools_on([old, new], date(2027, 1, 29)) == {"100"}
    assert domain.schools_on([old, new], date(2027, 1, 30)) == {"100", "200"}
    assert domain.schools_on([old, new], date(2027, 2, 1)) == {"200"}


def test_an_enrolment_counts_on_its_start_and_end_days():
    enrolment = Enrolment(PUPIL, "100", date(2026, 9, 1), date(2027, 6, 30), None, 1)
    assert enrolment.is_active_on(date(2026, 9, 1))
    assert enrolment.is_active_on(date(2027, 6, 30))
    assert not enrolment.is_active_on(date(2026, 8, 31))
    assert not enrolment.is_active_on(date(2027, 7, 1))
