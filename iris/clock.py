"""Belgian time. Periods of grants, enrolments and reports are Brussels calendar days,
so "today" is asked here and nowhere else; a service takes a `Clock` so tests can
move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")

Clock = Callable[[], datetime]
"""The moment now, timezone-aware; `now` unless a test passes its own."""


def now() -> datetime:
    return datetime.now(BRUSSELS)


def today(clock: Clock = now) -> date:
    """The Brussels calendar day at the clock's moment."""
    return clock().astimezone(BRUSSELS).date()
