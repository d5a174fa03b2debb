"""The register's rules for a registration's reach: how far ahead it may start, and
how a registration at a new school ends the old school's enrolment by itself."""

from datetime import date

import pytest

from services.enrolment import domain
from services.enrolment.domain import Enrolment, EnrolmentRuleBroken

PUPIL = "13050601212"
OLD, NEW, SPECIAL = "100", "200", "300"


def at_old_school(end: date | None = None) -> Enrolment:
    return Enrolment(PUPIL, OLD, date(2022, 9, 1), end, "Lotte", 3)


def test_a_registration_may_start_until_the_end_of_the_next_school_year():
    in_spring = date(2027, 3, 15)
    assert domain.latest_start(in_spring) == date(2028, 8, 31)
    domain.check_horizon(date(2028, 8, 31), in_spring)
    with pytest.raises(EnrolmentRuleBroken) as caught:
        domain.check_horizon(date(2028, 9, 1), in_spring)
    assert caught.value.field == "start_date" and "2028-08-31" in caught.value.message


def test_the_school_year_turns_on_the_first_of_september():
    assert domain.latest_start(date(2027, 8, 31)) == date(2028, 8, 31)
    assert domain.latest_start(date(2027, 9, 1)) == date(2029, 8, 31)
    assert domain.latest_start(date(2027, 9, 1), school_years_ahead=0) == date(2028, 8, 31)


def test_a_new_school_ends_the_old_schools_enrolment_the_day_before_it_starts():
    registration = domain.register_at(
        [at_old_school()], domain.Statement(PUPIL, NEW, date(2027, 9, 1), None, "Lotte")
    )
    new, ended = registration.changed
    assert new == Enrolment(PUPIL, NEW, date(2027, 9, 1), None, "Lotte", 1)
    assert ended.school_id == OLD and ended.end_date == date(2027, 8, 31)
    assert ended.version == 4 and ended.ended_by_school_change


def test_a_declared_combination_leaves_the_other_school_alone():
    registration = domain.register_at(
        [at_old_school()],
        domain.Statement(PUPIL, SPECIAL, date(2027, 9, 1), None, None, combination=True),
    )
    assert [e.school_id for e in registration.changed] == [SPECIAL]
    assert registration.changed[0].combination


def test_a_school_change_does_not_end_the_other_part_of_a_combination():
    combined = Enrolment(PUPIL, SPECIAL, date(2025, 9, 1), None, None, 1, combination=True)
    registration = domain.register_at(
        [at_old_school(), combined], domain.Statement(PUPIL, NEW, date(2027, 9, 1), None, None)
    )
    assert {e.school_id for e in registration.changed} == {NEW, OLD}


def test_an_enrolment_already_ended_before_the_new_start_is_left_alone():
    registration = domain.register_at(
        [at_old_school(end=date(2027, 6, 30))],
        domain.Statement(PUPIL, NEW, date(2027, 9, 1), None, None),
    )
    assert [e.school_id for e in registration.changed] == [NEW]


def test_an_old_end_later_than_the_new_start_is_brought_forward():
    registration = domain.register_at(
        [at_old_school(end=date(2027, 12, 31))],
        domain.Statement(PUPIL, NEW, date(2027, 9, 1), None, None),
    )
    assert registration.changed[1].end_date == date(2027, 8, 31)


def test_the_old_schools_later_end_changes_nothing():
    moved = domain.register_at(
        [at_old_school()], domain.Statement(PUPIL, NEW, date(2027, 9, 1), None, None)
    )
    ended = moved.changed[1]
    assert domain.end(ended, date(2027, 10, 15)) is None
    assert domain.end(ended, date(2027, 6, 30)) is None


def test_the_old_school_restating_its_registration_keeps_the_end_and_ends_nothing():
    moved = domain.register_at(
        [at_old_school()], domain.Statement(PUPIL, NEW, date(2027, 9, 1), None, "Lotte")
    )
    everything = [moved.changed[0], moved.changed[1]]
    again = domain.register_at(
        everything, domain.Statement(PUPIL, OLD, date(2022, 9, 1), None, "Lotte")
    )
    assert again.changed == []
    assert again.enrolment is not None and again.enrolment.end_date == date(2027, 8, 31)


def test_a_second_school_for_the_same_day_wins_and_the_first_never_takes_effect():
    planned = Enrolment(PUPIL, OLD, date(2027, 9, 1), None, None, 1)
    registration = domain.register_at(
        [planned], domain.Statement(PUPIL, NEW, date(2027, 9, 1), None, None)
    )
    cancelled = registration.changed[1]
    assert cancelled.end_date == date(2027, 8, 31) < cancelled.start_date
    restated = domain.register_at(
        registration.changed, domain.Statement(PUPIL, OLD, date(2027, 9, 1), None, None)
    )
    assert restated.changed == [], "the first school restating it does not win it back"


def test_a_registration_that_starts_before_a_later_schools_stops_the_day_before_it():
    later = Enrolment(PUPIL, NEW, date(2027, 9, 1), None, None, 1)
    registration = domain.register_at(
        [later], domain.Statement(PUPIL, OLD, date(2026, 9, 1), None, None)
    )
    assert [e.school_id for e in registration.changed] == [OLD]
    assert registration.changed[0].end_date == date(2027, 8, 31)


def test_a_pupil_who_comes_back_to_the_old_school_ends_the_school_in_between():
    moved = domain.register_at(
        [at_old_school()], domain.Statement(PUPIL, NEW, date(2027, 9, 1), None, None)
    )
    back = domain.register_at(
        moved.changed, domain.Statement(PUPIL, OLD, date(2028, 2, 1), None, None)
    )
    returned, ended = back.changed
    assert returned.start_date == date(2028, 2, 1) and returned.end_date is None
    assert not returned.ended_by_school_change
    assert ended.school_id == NEW and ended.end_date == date(2028, 1, 31)
