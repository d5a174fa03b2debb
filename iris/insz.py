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

EXAMPLE = "85.07.30-123.35"
"""A valid INSZ in its printed form, for the messages that say what is wrong."""


class InvalidINSZ(ValueError):
    pass


def insz_problem(value: str) -> str | None:
    """Why `value` is not a valid INSZ, or None when it is."""
    if not isinstance(value, str) or len(value) != 11 or not value.isascii() or not value.isdigit():
        return f"an INSZ has exactly 11 digits, for example {EXAMPLE}"
    if not _check_digits_match(value):
        return (
            "INSZ check digits (the last two) do not match the first nine (mod 97); "
            f"a valid example: {EXAMPLE}"
        )
    return None


def _check_digits_match(value: str) -> bool:
    body, check = int(value[:9]), int(value[9:])
    return check == 97 - body % 97 or check == 97 - (2_000_000_000 + body) % 97


def insz_digits(typed: str) -> str:
    """The digits of an INSZ as people write it: 85.07.30-123.35, 160314 121 50, ..."""
    return re.sub(r"[\s.\-/]", "", typed or "")


def show_insz(insz: str) -> str:
    """An INSZ the way it is printed on an eID card: 85.07.30-123.35."""
    return f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}"


def typed_insz_problem(typed: str) -> str | None:
    """What is wrong with an INSZ typed in a form (dots, dashes and spaces allowed):
    `missing`, `length` or `check`; None when its digits are a valid INSZ."""
    digits = insz_digits(typed)
    if not digits:
        return "missing"
    if not re.fullmatch(r"\d{11}", digits):
        return "length"
    return None if _check_digits_match(digits) else "check"


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
    """Only the last two digits (the check digits): `**.**.**-***.45`. The birth date
    and the two check digits together leave a handful of candidates; the check digits
    alone leave millions."""
    if len(value) != 11:
        return "**.**.**-***.**"
    return f"**.**.**-***.{value[9:]}"


def last_two_digits(value: str) -> str:
    """A pupil's INSZ where a page shows it beside the name the school registered: its
    last two digits only (enough to tell two pupils of the same name apart)."""
    return f"…{value[-2:]}" if len(value) == 11 else "…"


def institution_problem(value: str) -> str | None:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= 12
        or not value.isascii()
        or not value.isdigit()
    ):
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
