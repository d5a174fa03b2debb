"""The birth year and adulthood a national register number encodes, as the CLB's pages
show them before a report is issued."""

from __future__ import annotations

from datetime import date

from iris.insz import make_insz
from services.reports.pages.pupil_identity import birth_of, is_adult

TODAY = date(2026, 12, 2)


def test_the_century_comes_from_the_check_digits():
    assert birth_of(make_insz("2016-03-14", 121)) == (2016, date(2016, 3, 14))
    assert birth_of(make_insz("1984-02-11", 155)) == (1984, date(1984, 2, 11))


def test_a_bis_number_and_an_unknown_birth_day_still_give_the_year():
    bis = make_insz("2015-11-09", 367)
    bis = bis[:2] + f"{int(bis[2:4]) + 40:02d}" + bis[4:9]
    body = int(bis)
    bis += f"{97 - (2_000_000_000 + body) % 97:02d}"
    assert birth_of(bis) == (2015, date(2015, 11, 9))
    unknown = make_insz("2010-01-01", 101)
    unknown = unknown[:2] + "0000" + unknown[6:9]
    unknown += f"{97 - (2_000_000_000 + int(unknown)) % 97:02d}"
    assert birth_of(unknown) == (2010, None)


def test_a_person_is_an_adult_from_their_eighteenth_birthday():
    assert is_adult(make_insz("2008-12-02", 101), TODAY)
    assert not is_adult(make_insz("2008-12-03", 101), TODAY)
    assert not is_adult(make_insz("2016-03-14", 121), TODAY)
    assert is_adult(make_insz("1984-02-11", 155), TODAY)
