"""Enrolment rules, free of frameworks: what a submission changes, if anything."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, timedelta

from iris.errors import RuleBroken

DEFAULT_SCHOOL_YEARS_AHEAD = 1
"""How far ahead a registration may start: until the end of the next school year."""


class EnrolmentRuleBroken(RuleBroken):
    """A submission that the register cannot accept; `field` names the culprit."""

    field: str


@dataclass(frozen=True)
class Enrolment:
    """A pupil's enrolment at one school: one period, versioned per (pupil, school)."""

    pupil_id: str
    school_id: str
    start_date: date
    end_date: date | None
    display_name: str | None
    version: int
    combination: bool = False  # declared as one of two schools at once (e.g. with special ed.)
    ended_by_school_change: bool = False  # the register ended it when another school took over

    def is_active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


def school_year_end(day: date) -> date:
    """31 August that ends the Flemish school year (1 September to 31 August) holding `day`."""
    return date(day.year if day.month < 9 else day.year + 1, 8, 31)


def latest_start(today: date, school_years_ahead: int = DEFAULT_SCHOOL_YEARS_AHEAD) -> date:
    """The last start date a registration made `today` may name."""
    end = school_year_end(today)
    return end.replace(year=end.year + school_years_ahead)


def check_horizon(
    start_date: date, today: date, school_years_ahead: int = DEFAULT_SCHOOL_YEARS_AHEAD
) -> None:
    """Refuse a registration too far ahead: sight starts when it is made."""
    latest = latest_start(today, school_years_ahead)
    if start_date > latest:
        raise EnrolmentRuleBroken(
            "start_date",
            f"a registration may start at most {school_years_ahead} school year(s) after the "
            f"current one (on or before {latest.isoformat()}); register closer to the start",
        )


@dataclass(frozen=True)
class Statement:
    """What a school states when it registers a pupil: the period in full, the pupil's
    name if it gives one, and whether the enrolment is one half of a combination."""

    pupil_id: str
    school_id: str
    start_date: date
    end_date: date | None = None
    display_name: str | None = None
    combination: bool = False


def stated_in(registration: object) -> Statement:
    """The statement a registration makes (a request body or an event, which name the
    statement's fields alike)."""
    return Statement(*(getattr(registration, field.name) for field in fields(Statement)))


def register(
    current: Enrolment | None, stated: Statement, ended_by_school_change: bool = False
) -> Enrolment | None:
    """The enrolment after a registration, or None when nothing changes.

    A registration states the period in full: registering again with other
    dates changes the period. A missing display name keeps the known one. Only an
    end that a school change set may lie before the start (it never took effect).
    """
    start_date, end_date = stated.start_date, stated.end_date
    if end_date is not None and end_date < start_date and not ended_by_school_change:
        raise EnrolmentRuleBroken("end_date", "end_date lies before start_date")
    known_name = current.display_name if current else None
    name = stated.display_name if stated.display_name is not None else known_name
    facts = (start_date, end_date, name, stated.combination, ended_by_school_change)
    if current is None:
        return Enrolment(
            stated.pupil_id,
            stated.school_id,
            start_date,
            end_date,
            name,
            1,
            stated.combination,
            ended_by_school_change,
        )
    known = (
        current.start_date,
        current.end_date,
        current.display_name,
        current.combination,
        current.ended_by_school_change,
    )
    if known == facts:
        return None
    return replace(
        current,
        start_date=start_date,
        end_date=end_date,
        display_name=name,
        combination=stated.combination,
        ended_by_school_change=ended_by_school_change,
        version=current.version + 1,
    )


@dataclass(frozen=True)
class Registration:
    """What one registration does to a pupil's enrolments."""

    enrolment: Enrolment | None  # the enrolment at the registering school afterwards
    changed: list[Enrolment]  # every enrolment that changes, the registered one first


def register_at(enrolments: list[Enrolment], stated: Statement) -> Registration:
    """A registration in the light of the pupil's other schools.

    A pupil is enrolled at one school at a time: a registration ends every other
    enrolment still open on its start date the day before (an enrolment at another
    school registered for the same day ends before it starts, so it never takes
    effect). A registration that starts before a later school's does not reach past
    the day before that one's start. A declared combination, on either side, leaves
    the other enrolment alone. Restating an enrolment that a school change ended
    keeps that end and ends nothing.
    """
    start_date, end_date = stated.start_date, stated.end_date
    if end_date is not None and end_date < start_date:
        raise EnrolmentRuleBroken("end_date", "end_date lies before start_date")
    current = next((e for e in enrolments if e.school_id == stated.school_id), None)
    others = [e for e in enrolments if e.school_id != stated.school_id]
    if _restates_a_moved_enrolment(current, start_date):
        assert current is not None and current.end_date is not None
        end = current.end_date if end_date is None else min(end_date, current.end_date)
        new = register(current, replace(stated, end_date=end), True)
        return Registration(new or current, [new] if new else [])
    ended_by_change = False
    if not stated.combination:
        later = [o.start_date for o in others if not o.combination and o.start_date > start_date]
        if later and (end_date is None or end_date >= min(later)):
            end_date, ended_by_change = min(later) - timedelta(days=1), True
    new = register(current, replace(stated, end_date=end_date), ended_by_change)
    changed = [new] if new else []
    if not stated.combination:
        changed += [e for e in (end_for_school_change(o, start_date) for o in others) if e]
    return Registration(new or current, changed)


def _restates_a_moved_enrolment(current: Enrolment | None, start_date: date) -> bool:
    """A registration that does not start after the school change that ended this enrolment."""
    return (
        current is not None
        and current.ended_by_school_change
        and current.end_date is not None
        and start_date <= current.end_date + timedelta(days=1)
    )


def end_for_school_change(other: Enrolment, start_date: date) -> Enrolment | None:
    """Another school's enrolment once a registration from `start_date` takes the pupil over."""
    if other.combination or other.start_date > start_date:
        return None
    if other.end_date is not None and other.end_date < start_date:
        return None
    return replace(
        other,
        end_date=start_date - timedelta(days=1),
        ended_by_school_change=True,
        version=other.version + 1,
    )


def end(current: Enrolment | None, end_date: date) -> Enrolment | None:
    """The enrolment after it is ended on `end_date`, or None when it already ends then.

    An enrolment that a school change ended stays as the register ended it: the old
    school's own end, arriving later, changes nothing.
    """
    if current is None:
        raise EnrolmentRuleBroken("pupil_id", "this pupil is not enrolled at this school", 404)
    if current.ended_by_school_change:
        return None
    if end_date < current.start_date:
        raise EnrolmentRuleBroken("end_date", "end_date lies before the enrolment's start_date")
    if current.end_date == end_date:
        return None
    return replace(current, end_date=end_date, version=current.version + 1)


def schools_on(enrolments: list[Enrolment], day: date) -> set[str]:
    """The schools where the pupil is enrolled on `day` (two may overlap during a move)."""
    return {e.school_id for e in enrolments if e.is_active_on(day)}
