"""The access service's copy of the enrolment register, folded from
`iris.enrolment.changes`: a support request names a pupil registered at the school,
and the pages show the name the school registered. A change older than the copy's
version changes nothing, so duplicates and reordering are harmless."""

from __future__ import annotations

from sqlalchemy.orm import Session

from iris.contracts import EnrolmentChanged
from services.access.models import EnrolmentCopyRow


def fold(session: Session, changes: list[EnrolmentChanged]) -> int:
    """Apply the changes newer than the copy; returns how many were applied."""
    applied = 0
    for change in changes:
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
