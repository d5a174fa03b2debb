"""The access service's copy of the enrolment register, folded from
`iris.enrolment.changes`: a support request names a pupil registered at the school,
and the pages show the name the school registered. A change older than the copy's
version changes nothing, so duplicates and reordering are harmless."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from iris.contracts import EnrolmentChanged, Forgotten
from services.access import news
from services.access.models import EnrolmentCopyRow, SchoolRow


def fold(session: Session, changes: list[EnrolmentChanged | Forgotten]) -> int:
    """Apply the changes newer than the copy, and forget what a tombstone names; returns how
    many were applied."""
    applied = 0
    for change in changes:
        if isinstance(change, Forgotten):
            found = session.get(EnrolmentCopyRow, change.pair)
            news.forget_enrolments(session, [change.pair])
            if found is not None:
                session.delete(found)
                session.flush()
                applied += 1
            continue
        row = session.get(EnrolmentCopyRow, (change.pupil_id, change.school_id))
        if row is not None and row.version >= change.version:
            continue
        if row is None:
            row = EnrolmentCopyRow(pupil_id=change.pupil_id, school_id=change.school_id)
            session.add(row)
        row.start_date, row.end_date = change.start_date, change.end_date
        row.display_name, row.version = change.display_name, change.version
        session.flush()
        applied += 1
    return applied


def display_names(session: Session, school_id: str, pupil_ids: list[str]) -> dict[str, str]:
    """The names the school registered its pupils under (where it gave one)."""
    names = {}
    for pupil_id in pupil_ids:
        row = session.get(EnrolmentCopyRow, (pupil_id, school_id))
        if row is not None and row.display_name:
            names[pupil_id] = row.display_name
    return names


@dataclass(frozen=True)
class PupilOfClb:
    pupil_id: str
    display_name: str
    school_id: str
    school_name: str


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def pupils_of_clb(
    session: Session, clb_id: str, name: str, today: date, limit: int = 50
) -> list[PupilOfClb]:
    """Pupils registered (and not ended) at the schools the CLB serves, by the name their
    school registered: every word of `name` occurs in it, in any case."""
    words = name.casefold().split()
    query = (
        select(EnrolmentCopyRow, SchoolRow.name)
        .join(SchoolRow, SchoolRow.school_id == EnrolmentCopyRow.school_id)
        .where(
            SchoolRow.clb_id == clb_id,
            EnrolmentCopyRow.display_name.is_not(None),
            or_(EnrolmentCopyRow.end_date.is_(None), EnrolmentCopyRow.end_date >= today),
        )
        .order_by(EnrolmentCopyRow.display_name, EnrolmentCopyRow.pupil_id)
    )
    for word in words:
        query = query.where(EnrolmentCopyRow.display_name.ilike(_like(word), escape="\\"))
    found = []
    for row, school_name in session.execute(query.limit(limit)):
        assert row.display_name is not None
        if all(w in row.display_name.casefold() for w in words):
            found.append(PupilOfClb(row.pupil_id, row.display_name, row.school_id, school_name))
    return found


def pupil_at_clb(session: Session, clb_id: str, pupil_id: str, today: date) -> list[PupilOfClb]:
    """Where the schools the CLB serves registered this pupil (and the enrolment has not
    ended), with the name each registered: what CLB staff check before they issue."""
    query = (
        select(EnrolmentCopyRow, SchoolRow.name)
        .join(SchoolRow, SchoolRow.school_id == EnrolmentCopyRow.school_id)
        .where(
            SchoolRow.clb_id == clb_id,
            EnrolmentCopyRow.pupil_id == pupil_id,
            or_(EnrolmentCopyRow.end_date.is_(None), EnrolmentCopyRow.end_date >= today),
        )
        .order_by(EnrolmentCopyRow.school_id)
    )
    return [
        PupilOfClb(row.pupil_id, row.display_name or "", row.school_id, school_name)
        for row, school_name in session.execute(query)
    ]
