"""What is new to see at a school, for its care coordinators' digest
(services/access/notifications.py): a pupil registered there has a current report the
school did not have before, because a new report became current or because a pupil with
a report was registered.

`iris worker access` folds `iris.report.changes` into a copy of the reports' metadata
(pupil, version, start date, withdrawal; never content) and, after each batch of report
or enrolment changes, notices the news of the pupils concerned. `iris notify` notices
every school's news again before it sends, so a future-dated report counts from its date.
A change the copy already holds changes nothing, and the news are a state (the current
version per school and pupil), so duplicates and reordering are harmless.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from iris import current_report
from iris.contracts import Forgotten, ReportIssued, ReportWithdrawn
from services.access.models import EnrolmentCopyRow, ReportCopyRow, SchoolNewsRow

ReportFact = ReportIssued | ReportWithdrawn | Forgotten
REPORT_FACTS = (ReportIssued, ReportWithdrawn)
CHUNK = 1000  # pupils a query names at most


def _forget(session: Session, change: Forgotten) -> str:
    pupil, version = change.pair
    found = session.get(ReportCopyRow, (pupil, int(version))) if version.isdigit() else None
    if found is not None:
        session.delete(found)
    return pupil


def fold_reports(session: Session, changes: list[ReportFact]) -> set[str]:
    """Apply report changes to the copy; returns the pupils they concern."""
    pupils: set[str] = set()
    for change in changes:
        if isinstance(change, Forgotten):
            pupils.add(_forget(session, change))
            continue
        row = session.get(ReportCopyRow, (change.pupil_id, change.version))
        if row is None:
            if change.valid_from is None:  # a withdrawal of a version never seen, bare
                continue
            row = ReportCopyRow(pupil_id=change.pupil_id, version=change.version)
            row.valid_from, row.withdrawn_on = change.valid_from, None
            session.add(row)
        if isinstance(change, ReportWithdrawn):  # a withdrawal is for good
            row.withdrawn_on = min(change.withdrawn_on, row.withdrawn_on or change.withdrawn_on)
        session.flush()
        pupils.add(change.pupil_id)
    return pupils


def _current_versions(session: Session, pupils: Collection[str], today: date) -> dict[str, int]:
    versions: dict[str, list[ReportCopyRow]] = defaultdict(list)
    for row in session.scalars(select(ReportCopyRow).where(ReportCopyRow.pupil_id.in_(pupils))):
        versions[row.pupil_id].append(row)
    found = {}
    for pupil, rows in versions.items():
        current = current_report.current(rows, today, lambda r: r.withdrawn_on)
        if current is not None:
            found[pupil] = current.version
    return found


def notice(session: Session, today: date, pupils: Collection[str] | None = None) -> int:
    """Record, per school, the pupils registered there (not ended) whose current report is
    one the school has not had; forget those without one, or whose enrolment ended.
    `pupils`: only these (None: every pupil, CHUNK at a time). Returns how many news were
    recorded."""
    if pupils is None:
        pupils = session.scalars(select(EnrolmentCopyRow.pupil_id).distinct()).all()
    ordered, recorded = sorted(set(pupils)), 0
    for start in range(0, len(ordered), CHUNK):
        recorded += _notice_among(session, today, ordered[start : start + CHUNK])
    return recorded


def _notice_among(session: Session, today: date, pupils: list[str]) -> int:
    enrolled = session.scalars(
        select(EnrolmentCopyRow).where(EnrolmentCopyRow.pupil_id.in_(pupils))
    ).all()
    current = _current_versions(session, pupils, today)
    known = {
        (n.school_id, n.pupil_id): n
        for n in session.scalars(select(SchoolNewsRow).where(SchoolNewsRow.pupil_id.in_(pupils)))
    }
    now, recorded = datetime.now(UTC), 0
    for enrolment in enrolled:
        key = (enrolment.school_id, enrolment.pupil_id)
        news, version = known.get(key), current.get(enrolment.pupil_id)
        if enrolment.end_date is not None and enrolment.end_date < today:
            version = None  # the school no longer sees the pupil's report
        if version is None:
            if news is not None:
                session.delete(news)
            continue
        if news is not None and news.version == version:
            continue
        if news is None:
            news = SchoolNewsRow(school_id=key[0], pupil_id=key[1])
            session.add(news)
        news.version, news.noticed_at = version, now
        recorded += 1
    session.flush()
    return recorded


def forget_enrolments(session: Session, pairs: Collection[tuple[str, str]]) -> None:
    """An enrolment purged or erased (pupil, school): its school's news of the pupil go."""
    for pupil, school in pairs:
        session.execute(
            delete(SchoolNewsRow).where(
                SchoolNewsRow.pupil_id == pupil, SchoolNewsRow.school_id == school
            )
        )


def forget_pupil(session: Session, pupil: str) -> int:
    """An erasure: the pupil's report metadata and news go."""
    gone = session.execute(delete(ReportCopyRow).where(ReportCopyRow.pupil_id == pupil))
    session.execute(delete(SchoolNewsRow).where(SchoolNewsRow.pupil_id == pupil))
    return int(gone.rowcount)  # type: ignore[attr-defined]
