"""Which version of a pupil's report is current, and which versions a bounded copy keeps.

The one statement of these rules, standard library only: the reports service applies it
to its register (`services/reports/domain.py`), the viewer to its cache's copy
(`services/viewer/domain.py`); the viewer's Lua (`services/viewer/lua/lib.lua`, its
`current` and `newest`) is checked against it by tests/viewer/test_lua_rules.py.

The rule (docs/ARCHITECTURE.md, *ingangsdatum*): of the versions whose `valid_from` has
come, the newest (highest `version`) takes effect and supersedes every older one for
good; if it is withdrawn, the pupil has no current report until a newer version takes
effect. A version withdrawn before its date came (`withdrawn_on < valid_from`) is
cancelled: it never takes effect. Dates are `datetime.date`s or ISO texts (both compare
in calendar order), the same type throughout one call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


class Dated(Versioned, Protocol):
    @property
    def valid_from(self) -> Any: ...


V = TypeVar("V", bound=Versioned)
D = TypeVar("D", bound=Dated)


def cancelled(valid_from: Any, withdrawn_on: Any | None) -> bool:
    """Withdrawn before its date came: it never takes effect."""
    return withdrawn_on is not None and withdrawn_on < valid_from


def in_effect(
    versions: Iterable[D], today: Any, withdrawn_on: Callable[[D], Any | None]
) -> D | None:
    """The newest version whose date has come, withdrawn or not (never a cancelled one).

    `withdrawn_on(version)` is the day it was withdrawn, None while it is not."""
    started = [
        v
        for v in versions
        if v.valid_from <= today and not cancelled(v.valid_from, withdrawn_on(v))
    ]
    return max(started, key=lambda v: v.version, default=None)


def current(versions: Iterable[D], today: Any, withdrawn_on: Callable[[D], Any | None]) -> D | None:
    """The current report on `today`, or None (nothing in effect, or it was withdrawn)."""
    newest = in_effect(versions, today, withdrawn_on)
    return None if newest is None or withdrawn_on(newest) is not None else newest


def newest(items: Iterable[V], kept: int) -> tuple[V, ...]:
    """The `kept` items of the highest versions, newest first, one per version (the first
    met of a version stays): what a bounded copy of a pupil's report history holds."""
    by_version: dict[int, V] = {}
    for item in items:
        by_version.setdefault(item.version, item)
    ordered = sorted(by_version.values(), key=lambda i: i.version, reverse=True)
    return tuple(ordered[:kept])
