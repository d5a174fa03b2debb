"""Viewer rules, free of frameworks: the authorisation decision and how the three
change topics fold into the state it reads.

The decision (ARCHITECTURE.md, Authorisation): person P may see pupil X's report
iff there is a school S such that X's enrolment at S is registered and has not ended
(whatever its start date), P holds a grant at S that is active today and covers X,
and X has a current report.

Folding: enrolments are kept per (pupil, school) and grants per (school, person),
last writer wins by `version` (a version not newer than the one held is ignored).
A pupil's report state is an order-independent merge: the issued versions (the
newest `REPORT_VERSIONS_KEPT` by version) and the withdrawals (likewise), so a
duplicate, a replay or any reordering of report events gives the same state.
Which version is current is decided at check time from today's date.

The Lua scripts in `lua/` implement the same rules over Redis; the
property-based tests check them against these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date
from enum import Enum
from typing import Any

from iris import current_report
from iris.contracts import (
    ACCESS_GRANTS,
    ENROLMENT_CHANGES,
    REPORT_CHANGES,
    EnrolmentChanged,
    Forgotten,
    GrantChanged,
    ReportIssued,
    ReportWithdrawn,
)

REPORT_VERSIONS_KEPT = 5
CACHE_NOT_READY = "authorisation cache not ready"
# The cache was built, but no healthy worker has vouched for it lately: it may lack changes.
CACHE_NOT_CURRENT = "authorisation cache not current"


class Denial(Enum):
    """Why a school does not grant sight, in the order a check gets further: across a
    person's schools the denial of the one that got furthest is told. `lua/check.lua`
    numbers the same stages from a table generated from this order (`scripts.py`)."""

    NO_GRANT = "no grant at any school"
    GRANT_NOT_ACTIVE = "grant not active today"
    GRANT_NOT_FOR_PUPIL = "grant does not cover this pupil"
    NOT_ENROLLED = "pupil not enrolled at the granting school today"  # none, or ended
    NO_CURRENT_REPORT = "pupil has no current report"


NO_GRANT = Denial.NO_GRANT.value
GRANT_NOT_ACTIVE = Denial.GRANT_NOT_ACTIVE.value
GRANT_NOT_FOR_PUPIL = Denial.GRANT_NOT_FOR_PUPIL.value
NOT_ENROLLED = Denial.NOT_ENROLLED.value
NO_CURRENT_REPORT = Denial.NO_CURRENT_REPORT.value
STAGES = tuple(denial.value for denial in Denial)


@dataclass(frozen=True)
class Enrolment:
    start_date: str  # ISO dates as text: they compare correctly and match the cache
    end_date: str | None
    display_name: str | None
    version: int

    def active_on(self, today: str) -> bool:
        """Sight starts when the enrolment is registered (folded), also for a later start
        date, and ends after its end date."""
        return self.end_date is None or today <= self.end_date


@dataclass(frozen=True)
class CachedGrant:
    """The viewer's copy of a person's grant at one school, as folded from `GrantChanged`."""

    grant_id: str
    role: str
    pupil_ids: tuple[str, ...] | None
    valid_from: str
    valid_until: str
    status: str
    version: int

    def active_on(self, today: str) -> bool:
        return self.status == "active" and self.valid_from <= today <= self.valid_until

    def covers(self, pupil_id: str) -> bool:
        return self.pupil_ids is None or pupil_id in self.pupil_ids


@dataclass(frozen=True)
class IssuedVersion:
    version: int
    report_id: str
    kind: str
    valid_from: str
    clb_id: str


@dataclass(frozen=True)
class Withdrawal:
    version: int
    report_id: str
    withdrawn_on: str  # the UTC date of withdrawn_at


@dataclass(frozen=True)
class ReportState:
    issued: tuple[IssuedVersion, ...] = ()  # newest version first
    withdrawn: tuple[Withdrawal, ...] = ()  # newest version first

    def current(self, today: str) -> IssuedVersion | None:
        """The current report today (`iris.current_report`), of the versions kept."""
        lifted = {w.report_id: w.withdrawn_on for w in self.withdrawn}
        return current_report.current(self.issued, today, lambda i: lifted.get(i.report_id))


@dataclass(frozen=True)
class State:
    enrolments: dict[tuple[str, str], Enrolment] = field(default_factory=dict)  # (pupil, school)
    grants: dict[tuple[str, str], CachedGrant] = field(default_factory=dict)  # (school, person)
    reports: dict[str, ReportState] = field(default_factory=dict)  # pupil


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None
    school_id: str | None = None
    role: str | None = None
    report: IssuedVersion | None = None


# -- folding -----------------------------------------------------------------------------


def enrolment_of(event: EnrolmentChanged) -> Enrolment:
    return Enrolment(
        event.start_date.isoformat(),
        event.end_date.isoformat() if event.end_date else None,
        event.display_name,
        event.version,
    )


def grant_of(event: GrantChanged) -> CachedGrant:
    return CachedGrant(
        str(event.grant_id),
        event.role,
        tuple(event.pupil_ids) if event.pupil_ids is not None else None,
        event.valid_from.isoformat(),
        event.valid_until.isoformat(),
        event.status,
        event.version,
    )


def issued_of(event: ReportIssued) -> IssuedVersion:
    return _issued(event.version, event.report_id, event.kind, event.valid_from, event.clb_id)


def _issued(
    version: int, report_id: Any, kind: str, valid_from: date, clb_id: str
) -> IssuedVersion:
    return IssuedVersion(version, str(report_id), kind, valid_from.isoformat(), clb_id)


def withdrawal_of(event: ReportWithdrawn) -> Withdrawal:
    """The reports service's date of the withdrawal (`withdrawn_on` where the event carries
    it), else the UTC date of `withdrawn_at`."""
    withdrawn_on = getattr(event, "withdrawn_on", None) or event.withdrawn_at.astimezone(UTC).date()
    return Withdrawal(event.version, str(event.report_id), withdrawn_on.isoformat())


def issued_of_withdrawn(event: ReportWithdrawn) -> IssuedVersion | None:
    """The issue a withdrawal repeats (where it does): compaction may have kept only the
    withdrawal of a version."""
    if event.kind is None or event.clb_id is None or event.valid_from is None:
        return None
    return _issued(event.version, event.report_id, event.kind, event.valid_from, event.clb_id)


def forget_version(state: ReportState, version: int) -> ReportState:
    """The pupil's report state without one version (a tombstone of its key)."""
    return ReportState(
        tuple(i for i in state.issued if i.version != version),
        tuple(w for w in state.withdrawn if w.version != version),
    )


def forget(state: State, event: Forgotten) -> State:
    """The state without what a tombstone's key held."""
    if event.topic == ENROLMENT_CHANGES.name:
        enrolments = {k: v for k, v in state.enrolments.items() if k != event.pair}
        return replace(state, enrolments=enrolments)
    if event.topic == ACCESS_GRANTS.name:
        grants = {k: v for k, v in state.grants.items() if k != event.pair}
        return replace(state, grants=grants)
    if event.topic == REPORT_CHANGES.name:
        pupil, version = event.pair
        reports = dict(state.reports)
        left = forget_version(reports.pop(pupil, ReportState()), int(version or 0))
        if left.issued or left.withdrawn:
            reports[pupil] = left
        return replace(state, reports=reports)
    return state


def merge_report(
    state: ReportState, issued: IssuedVersion | None = None, withdrawal: Withdrawal | None = None
) -> ReportState:
    """Add one report event; the result does not depend on the order of events."""
    new_issued, new_withdrawn = list(state.issued), list(state.withdrawn)
    if issued is not None and all(i.version != issued.version for i in state.issued):
        new_issued.append(issued)
    if withdrawal is not None and all(w.version != withdrawal.version for w in state.withdrawn):
        new_withdrawn.append(withdrawal)
    return ReportState(
        current_report.newest(new_issued, REPORT_VERSIONS_KEPT),
        current_report.newest(new_withdrawn, REPORT_VERSIONS_KEPT),
    )


def _held_is_as_new(held: Mapping[Any, Any], key: Any, version: int) -> bool:
    """Last writer wins by version: an event no newer than what is held changes nothing."""
    found = held.get(key)
    return found is not None and found.version >= version


def apply(state: State, event: Any) -> State:
    """The state after one event from the three change topics (a tombstone forgets what
    its key held)."""
    if isinstance(event, Forgotten):
        return forget(state, event)
    if isinstance(event, EnrolmentChanged):
        key = (event.pupil_id, event.school_id)
        if _held_is_as_new(state.enrolments, key, event.version):
            return state
        return replace(state, enrolments={**state.enrolments, key: enrolment_of(event)})
    if isinstance(event, GrantChanged):
        gkey = (event.school_id, event.person_id)
        if _held_is_as_new(state.grants, gkey, event.version):
            return state
        return replace(state, grants={**state.grants, gkey: grant_of(event)})
    if isinstance(event, ReportIssued | ReportWithdrawn):
        report = state.reports.get(event.pupil_id, ReportState())
        if isinstance(event, ReportIssued):
            merged = merge_report(report, issued=issued_of(event))
        else:
            merged = merge_report(
                report, issued=issued_of_withdrawn(event), withdrawal=withdrawal_of(event)
            )
        return replace(state, reports={**state.reports, event.pupil_id: merged})
    return state


def fold(events: list[Any], state: State | None = None) -> State:
    state = state or State()
    for event in events:
        state = apply(state, event)
    return state


# -- the decision ------------------------------------------------------------------------


def school_decision(
    pupil_id: str,
    school_id: str,
    today: str,
    enrolment: Enrolment | None,
    grant: CachedGrant | None,
    report: ReportState | None,
) -> Decision:
    """Whether one school's grant lets its holder see the pupil's report today."""
    if grant is None:
        return Decision(False, NO_GRANT, school_id)
    if not grant.active_on(today):
        return Decision(False, GRANT_NOT_ACTIVE, school_id, grant.role)
    if not grant.covers(pupil_id):
        return Decision(False, GRANT_NOT_FOR_PUPIL, school_id, grant.role)
    if enrolment is None or not enrolment.active_on(today):
        return Decision(False, NOT_ENROLLED, school_id, grant.role)
    current = report.current(today) if report else None
    if current is None:
        return Decision(False, NO_CURRENT_REPORT, school_id, grant.role)
    return Decision(True, None, school_id, grant.role, current)


def may_view(
    person_id: str,
    pupil_id: str,
    today: date | str,
    state: State,
    school_id: str | None = None,
) -> Decision:
    """The reference decision: may `person_id` see `pupil_id`'s report today?

    Every school where the person holds a grant is tried (or only `school_id`
    when given), in school-id order; the first that allows decides. A denial
    names the reason of the school that got furthest (ties: the lowest school id).
    """
    day = today if isinstance(today, str) else today.isoformat()
    if school_id is not None:
        schools = [school_id]
    else:
        schools = sorted({s for (s, p) in state.grants if p == person_id})
    best = Decision(False, NO_GRANT)
    for school in schools:
        decision = school_decision(
            pupil_id,
            school,
            day,
            state.enrolments.get((pupil_id, school)),
            state.grants.get((school, person_id)),
            state.reports.get(pupil_id),
        )
        if decision.allowed:
            return decision
        if STAGES.index(decision.reason or NO_GRANT) > STAGES.index(best.reason or NO_GRANT):
            best = decision
    return Decision(False, best.reason, best.school_id, best.role)


@dataclass(frozen=True)
class PupilWithReport:
    pupil_id: str
    display_name: str | None
    report: IssuedVersion


def pupils_with_report(
    today: str,
    enrolments: dict[str, Enrolment],
    reports: dict[str, ReportState],
    grant: CachedGrant | None,
    whole_school: bool,
) -> list[PupilWithReport]:
    """The pupils enrolled at one school today with a current report that the caller may
    know of: all of them for the school's own software (`whole_school`), else those the
    caller's grant covers while it is active."""
    if not whole_school and (grant is None or not grant.active_on(today)):
        return []
    found = []
    for pupil_id in sorted(enrolments):
        if not enrolments[pupil_id].active_on(today):
            continue
        if not whole_school and grant is not None and not grant.covers(pupil_id):
            continue
        current = reports[pupil_id].current(today) if pupil_id in reports else None
        if current is not None:
            found.append(PupilWithReport(pupil_id, enrolments[pupil_id].display_name, current))
    return found
