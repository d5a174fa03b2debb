"""Enrolment rules, free of frameworks: what a submission changes, if anything."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date


class EnrolmentRuleBroken(ValueError):
    """A submission that the register cannot accept; `field` names the culprit."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Enrolment:
    """A pupil's enrolment at one school: one period, versioned per (pupil, school)."""

    pupil_id: str
    school_id: str
    start_date: date
    end_date: date | None
    display_name: str | None
    version: int

    def is_active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


def register(
    current: Enrolment | None,
    pupil_id: str,
    school_id: str,
    start_date: date,
    end_date: date | None,
    display_name: str | None,
) -> Enrolment | None:
    """The enrolment after a registration, or None when nothing changes.

    A registration states the period in full: registering again with other
    dates changes the period. A missing display name keeps the known one.
    """
    if end_date is not None and end_date < start_date:
        raise EnrolmentRuleBroken("end_date", "end_date lies before start_date")
    name = display_name if display_name is not None else (current.display_name if current else None)
    if current is None:
        return Enrolment(pupil_id, school_id, start_date, end_date, name, 1)
    if (current.start_date, current.end_date, current.display_name) == (start_date, end_date, name):
        return None
    return replace(
        current,
        start_date=start_date,
        end_date=end_date,
        display_name=name,
        version=current.version + 1,
    )


def end(current: Enrolment | None, end_date: date) -> Enrolment | None:
    """The enrolment after it is ended on `end_date`, or None when it already ends then."""
    if current is None:
        raise EnrolmentRuleBroken("pupil_id", "this pupil is not enrolled at this school", 404)
    if end_date < current.start_date:
        raise EnrolmentRuleBroken("end_date", "end_date lies before the enrolment's start_date")
    if current.end_date == end_date:
        return None
    return replace(current, end_date=end_date, version=current.version + 1)


def schools_on(enrolments: list[Enrolment], day: date) -> set[str]:
    """The schools where the pupil is enrolled on `day` (two may overlap during a move)."""
    return {e.school_id for e in enrolments if e.is_active_on(day)}
