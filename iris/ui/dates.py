"""Dates and moments as Belgians read them, written once for every page: "1 september
2026" (nl-BE) or "1 September 2026" (en), and moments in Brussels time. Templates use the
filters `day` and `moment` (installed by `iris.ui.pages.make_environment`); a date field
accepts what its date picker shows (day/month/year) as well as ISO 8601."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date, format_time

from iris.clock import BRUSSELS
from iris.ui.i18n import N_

LOCALES = {"nl": "nl_BE", "en": "en_GB"}
TYPED_DATE = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NOT_A_DATE = N_("Enter a date as day/month/year, for example 01/09/2026.")


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.astimezone(BRUSSELS).date()
    return value if isinstance(value, date) else date.fromisoformat(value)


def belgian_date(value: date | datetime | str, language: str) -> str:
    """A day written out: 1 september 2026."""
    return format_date(_as_date(value), format="long", locale=LOCALES[language])


def brussels_moment(value: datetime | str, language: str) -> str:
    """A moment in Brussels time: 1 september 2026, 14:05."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:  # stored moments are UTC (SQLite hands them back naive)
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(BRUSSELS)
    clock = format_time(local, format="HH:mm", locale=LOCALES[language])
    return f"{belgian_date(local.date(), language)}, {clock}"


def typed_date(value: Any) -> Any:
    """A date as a date picker shows it (01/09/2026, 1.9.2026) in ISO form; ISO text and
    what is not text unchanged, for the field's own parsing; other text refused in the
    words a page shows."""
    if isinstance(value, str):
        found = TYPED_DATE.match(value)
        if found:
            day, month, year = (int(part) for part in found.groups())
            return f"{year:04d}-{month:02d}-{day:02d}"
        if value.strip() and not ISO_DATE.match(value.strip()):
            raise ValueError(NOT_A_DATE)
    return value
