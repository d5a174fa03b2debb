"""Whom a national register number belongs to, as the schools of the CLB registered it:
shown before a CLB issues a report, so that a typo does not give a report to the wrong
child. A number no school of the CLB registered (an adult's, a pupil of another CLB's
school, a typo that still passes the check digits), or one that cannot be checked now,
needs an explicit confirmation before a report is issued for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fastapi import Request

from iris.auth import Principal
from services.reports.bootstrap import Dependencies
from services.reports.pages.name_search import callers_token, registrations_of

ADULT_AGE = 18
CONFIRM_FIELD = "confirm_pupil"


@dataclass(frozen=True)
class Identity:
    registrations: list[dict[str, str]] = field(default_factory=list)  # name, school
    birth_year: int | None = None
    adult: bool = False
    checked: bool = True  # False: the access service could not be asked

    @property
    def needs_confirmation(self) -> bool:
        return not self.registrations

    @property
    def name(self) -> str:
        """The name the schools registered the pupil under ("" when none did)."""
        return next((r["name"] for r in self.registrations if r["name"]), "")


def birth_of(insz: str) -> tuple[int, date | None]:
    """The birth year an INSZ encodes, and the birth date where it names one (a BIS number
    adds 20 or 40 to the month; an unknown month or day is 00)."""
    body, check = int(insz[:9]), int(insz[9:])
    century = 2000 if check == 97 - (2_000_000_000 + body) % 97 else 1900
    year, month, day = century + int(insz[:2]), int(insz[2:4]) % 20, int(insz[4:6])
    try:
        return year, date(year, month, day)
    except ValueError:
        return year, None


def is_adult(insz: str, today: date) -> bool:
    year, born = birth_of(insz)
    if born is None:
        return today.year - year > ADULT_AGE
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age >= ADULT_AGE


def identity_of(
    request: Request, principal: Principal, deps: Dependencies, pupil_id: str
) -> Identity:
    year, _born = birth_of(pupil_id)
    adult = is_adult(pupil_id, deps.clock())
    token = callers_token(request)
    found = None
    if token is not None:
        found = registrations_of(deps.access_url, token, sorted(principal.clb_staff_of), pupil_id)
    if found is None:
        return Identity([], year, adult, checked=False)
    registrations = [
        {
            "name": str(r["display_name"] or ""),
            "school": f"{r['school_name']} ({r['school_id']})",
        }
        for r in found
    ]
    return Identity(registrations, year, adult)
