"""Belgian national register numbers (INSZ / rijksregisternummer) and institution numbers.

An INSZ has 11 digits: birth date (YYMMDD), a serial number (3 digits) and a
check number (2 digits). The check number is 97 minus the first nine digits
modulo 97; for people born in 2000 or later the digit 2 is put in front of
the nine digits first. BIS numbers (month + 20 or + 40) use the same check.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_INSZ_FORMAT = re.compile(r"^\d{11}$")
_INSTITUTION_FORMAT = re.compile(r"^\d{1,12}$")


class InvalidINSZ(ValueError):
    pass


def insz_problem(value: str) -> str | None:
    """Why `value` is not a valid INSZ, or None when it is."""
    if not isinstance(value, str) or not _INSZ_FORMAT.match(value):
        return "an INSZ has exactly 11 digits"
    body, check = value[:9], int(value[9:])
    before_2000 = 97 - int(body) % 97
    from_2000 = 97 - int("2" + body) % 97
    if check not in (before_2000, from_2000):
        return "INSZ check digits do not match (mod 97)"
    return None


def is_valid_insz(value: str) -> bool:
    return insz_problem(value) is None


def validate_insz(value: str) -> str:
    problem = insz_problem(value)
    if problem:
        raise InvalidINSZ(problem)
    return value


def make_insz(birth: str, serial: int) -> str:
    """Build a valid INSZ from a birth date `YYYY-MM-DD` and a serial number (1-997)."""
    year, month, day = birth.split("-")
    body = f"{year[2:]}{month}{day}{serial:03d}"
    prefix = "2" if int(year) >= 2000 else ""
    check = 97 - int(prefix + body) % 97
    return f"{body}{check:02d}"


def mask_insz(value: str) -> str:
    """Show only the birth date part and the last two digits: 120304.xxx.45 style."""
    if len(value) != 11:
        return "***********"
    return f"{value[:2]}.{value[2:4]}.{value[4:6]}-***.{value[9:]}"


def institution_problem(value: str) -> str | None:
    if not isinstance(value, str) or not _INSTITUTION_FORMAT.match(value):
        return "an instellingsnummer consists of 1 to 12 digits"
    return None


def _check_insz(value: str) -> str:
    problem = insz_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_institution(value: str) -> str:
    problem = institution_problem(value)
    if problem:
        raise ValueError(problem)
    return value


INSZ = Annotated[str, AfterValidator(_check_insz)]
InstitutionNumber = Annotated[str, AfterValidator(_check_institution)]
