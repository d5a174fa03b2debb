"""Report rules, free of frameworks: which reports may be issued, and which version is current.

Kinds (since 1 September 2023, the leersteundecreet):
- `IAC` (individueel aangepast curriculum): the pupil cannot follow the common
  curriculum; gives access to buitengewoon onderwijs of a `type` and, in
  secondary, to opleidingsvorm 1, 2 or 3, or to an adapted curriculum in a
  mainstream school.
- `OV4`: the pupil follows the common curriculum in buitengewoon secundair
  onderwijs, opleidingsvorm 4, of a `type`.
- `GC` (gemeenschappelijk curriculum): the pupil follows the common curriculum
  in a mainstream school with support (leersteun); no opleidingsvorm.
- legacy `V` (verslag, access to buitengewoon onderwijs) and `GV`
  (gemotiveerd verslag, support in a mainstream school).

Where types are organised in buitengewoon secundair onderwijs: type
basisaanbod only in opleidingsvorm 3, type 2 in opleidingsvorm 1 and 2, types
3, 4, 6, 7 and 9 in all four. Type basisaanbod does not exist in nursery
education.

Which version is current is `iris.current_report`'s rule, shared with the viewer; a
withdrawn version carries the day it was withdrawn (`withdrawn_on`).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from iris import current_report
from iris.errors import RuleBroken

Kind = Literal["IAC", "OV4", "GC", "V", "GV"]
BoType = Literal["basisaanbod", "2", "3", "4", "6", "7", "9"]
Level = Literal["nursery", "primary", "secondary"]
Status = Literal["current", "scheduled", "superseded", "withdrawn"]

KINDS: tuple[str, ...] = get_args(Kind)
BO_TYPES: tuple[str, ...] = get_args(BoType)
LEVELS: tuple[str, ...] = get_args(Level)
OPLEIDINGSVORMEN = (1, 2, 3, 4)
SECTIONS = ("needs", "advice", "measures_taken", "reasoning")
SECTION_MAX_CHARS = 20_000

KINDS_WITH_TYPE = frozenset({"IAC", "OV4", "V"})
MAINSTREAM_KINDS = frozenset({"GC", "GV"})
TYPES_BY_OPLEIDINGSVORM: dict[int, frozenset[str]] = {
    1: frozenset({"2", "3", "4", "6", "7", "9"}),
    2: frozenset({"2", "3", "4", "6", "7", "9"}),
    3: frozenset({"basisaanbod", "3", "4", "6", "7", "9"}),
    4: frozenset({"3", "4", "6", "7", "9"}),
}


def N_(message: str) -> str:
    """Marks a rule's message for the pages' catalogue (translated where it is shown)."""
    return message


class ReportRuleBroken(RuleBroken):
    """A request the register cannot accept; `field` names the culprit, never its value.

    `template` is an English sentence with `%(name)s` placeholders and `params`
    their values (kinds, types, numbers: never submitted text), so pages can show
    the message in the visitor's language: `gettext(exc.template) % exc.params`.
    """

    field: str


@dataclass(frozen=True)
class Placement:
    """What a report says about where the pupil belongs."""

    kind: str
    type: str | None
    opleidingsvorm: int | None
    level: str | None


def check_placement(
    kind: str, type_: str | None, opleidingsvorm: int | None, level: str | None
) -> Placement:
    """The placement a report states, with the level made explicit where it follows
    from the rest; raises ReportRuleBroken naming the first field that breaks a rule."""
    if kind not in KINDS:
        raise ReportRuleBroken(
            "kind", N_("The kind must be one of %(options)s."), options=", ".join(KINDS)
        )
    if type_ is not None and type_ not in BO_TYPES:
        raise ReportRuleBroken(
            "type", N_("The type must be one of %(options)s."), options=", ".join(BO_TYPES)
        )
    if opleidingsvorm is not None and opleidingsvorm not in OPLEIDINGSVORMEN:
        raise ReportRuleBroken("opleidingsvorm", N_("The opleidingsvorm must be 1, 2, 3 or 4."))
    if level is not None and level not in LEVELS:
        raise ReportRuleBroken(
            "level", N_("The level must be one of %(options)s."), options=", ".join(LEVELS)
        )

    if level is None and (opleidingsvorm is not None or kind == "OV4"):
        level = "secondary"
    if opleidingsvorm is not None and level != "secondary":
        raise ReportRuleBroken(
            "opleidingsvorm", N_("An opleidingsvorm exists only in secondary education.")
        )

    if kind in KINDS_WITH_TYPE and type_ is None:
        raise ReportRuleBroken(
            "type", N_("A %(kind)s report names the buitengewoon-onderwijs type."), kind=kind
        )
    if kind in MAINSTREAM_KINDS and opleidingsvorm is not None:
        raise ReportRuleBroken(
            "opleidingsvorm",
            N_(
                "A %(kind)s report concerns the common curriculum in a mainstream school; "
                "an opleidingsvorm belongs to buitengewoon secundair onderwijs."
            ),
            kind=kind,
        )
    if type_ == "basisaanbod" and level == "nursery":
        raise ReportRuleBroken(
            "type", N_("Type basisaanbod is not organised in nursery education.")
        )

    if kind == "OV4":
        if level != "secondary":
            raise ReportRuleBroken("level", N_("An OV4 report is for secondary education."))
        if opleidingsvorm != 4:
            raise ReportRuleBroken(
                "opleidingsvorm", N_("An OV4 report goes with opleidingsvorm 4.")
            )
    if kind in ("IAC", "V") and level == "secondary" and opleidingsvorm is None:
        raise ReportRuleBroken(
            "opleidingsvorm",
            N_("In secondary education a %(kind)s report names the opleidingsvorm."),
            kind=kind,
        )
    if kind == "IAC" and opleidingsvorm == 4:
        raise ReportRuleBroken(
            "opleidingsvorm",
            N_("Opleidingsvorm 4 follows the common curriculum: issue an OV4 report instead."),
        )
    if (
        kind in KINDS_WITH_TYPE
        and opleidingsvorm is not None
        and type_ not in TYPES_BY_OPLEIDINGSVORM[opleidingsvorm]
    ):
        raise ReportRuleBroken(
            "type",
            N_("This type is not organised in opleidingsvorm %(opleidingsvorm)s."),
            opleidingsvorm=opleidingsvorm,
        )
    return Placement(kind, type_, opleidingsvorm, level)


def section_problem(text: str) -> str | None:
    """Why `text` is not an acceptable section (plain text, bounded), or None.

    The answer never quotes the text: sections hold private information.
    """
    if not text.strip():
        return N_("A section may not be empty.")
    if len(text) > SECTION_MAX_CHARS:
        return N_("A section holds at most 20,000 characters.")
    for char in text:
        if char not in "\n\r\t" and unicodedata.category(char) in ("Cc", "Cs"):
            return N_("A section is plain text without control characters.")
    return None


# -- versions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """The sections of one version: private, never on a topic, in a log or in an error."""

    needs: str
    advice: str
    measures_taken: str
    reasoning: str


@dataclass(frozen=True)
class Retry:
    """A client's Idempotency-Key and a digest of the request it sent with it."""

    key: str
    digest: str


@dataclass(frozen=True)
class ReportVersion:
    """One issued version of a pupil's report (metadata; the content lives apart)."""

    report_id: uuid.UUID
    pupil_id: str
    version: int
    kind: str
    clb_id: str
    valid_from: date
    issued_at: datetime
    type: str | None
    opleidingsvorm: int | None
    level: str | None
    issue_sequence: int
    withdrawn_at: datetime | None = None
    withdrawn_on: date | None = None
    withdraw_sequence: int | None = None
    issued_by: str = ""
    issued_by_name: str | None = None
    # why CLB staff withdrew it: kept in the register, shown in its history, never published
    withdrawal_reason: str | None = None

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def cancelled(self) -> bool:
        """Withdrawn before its date came: it never takes effect."""
        return current_report.cancelled(self.valid_from, self.withdrawn_on)


@dataclass(frozen=True)
class Head:
    """The last version and the last change sequence handed out for one pupil."""

    last_version: int = 0
    last_sequence: int = 0

    def issue(self) -> Head:
        return Head(self.last_version + 1, self.last_sequence + 1)

    def withdraw(self) -> Head:
        return Head(self.last_version, self.last_sequence + 1)


def _withdrawn_on(version: ReportVersion) -> date | None:
    return version.withdrawn_on


def in_effect(versions: Iterable[ReportVersion], today: date) -> ReportVersion | None:
    """The newest version whose date has come, withdrawn or not (but never a cancelled one)."""
    return current_report.in_effect(versions, today, _withdrawn_on)


def current(versions: Iterable[ReportVersion], today: date) -> ReportVersion | None:
    """The pupil's current report on `today`, or None."""
    return current_report.current(versions, today, _withdrawn_on)


def status_of(version: ReportVersion, versions: Iterable[ReportVersion], today: date) -> Status:
    if version.withdrawn:
        return "withdrawn"
    if version.valid_from > today:
        return "scheduled"
    now = current(versions, today)
    return "current" if now is not None and now.version == version.version else "superseded"


def may_withdraw(version: ReportVersion, clb_staff_of: frozenset[str]) -> bool:
    """Only staff of the issuing CLB may lift a report."""
    return version.clb_id in clb_staff_of


def changes_in_order(
    versions: Iterable[ReportVersion],
) -> list[tuple[int, Literal["issued", "withdrawn"], ReportVersion]]:
    """Every change the versions record, by their per-pupil sequence."""
    changes: list[tuple[int, Literal["issued", "withdrawn"], ReportVersion]] = []
    for v in versions:
        changes.append((v.issue_sequence, "issued", v))
        if v.withdraw_sequence is not None:
            changes.append((v.withdraw_sequence, "withdrawn", v))
    return sorted(changes, key=lambda change: (change[2].pupil_id, change[0]))
