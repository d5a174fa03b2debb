"""The viewer's part of an erasure (iris.erasure): every view and denial whose record names
the INSZ, as the pupil or as the one who looked, each with a tombstone of its key on
`iris.viewer.audit`. Its cache forgets through the tombstones the other services publish."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from iris.erasure import Role, drop_outbox
from services.viewer.models import DenialRow, Outbox, ViewRow
from services.viewer.purge import tombstone_records


def erase(session: Session, _role: Role, insz: str, _reference: str) -> dict[str, int]:
    events = drop_outbox(session, Outbox, insz)
    views = _forget(
        session, ViewRow.view_id, or_(ViewRow.pupil_id == insz, ViewRow.person_id == insz)
    )
    # a denial names the pupil as it was asked (a path segment), so anywhere in it
    denials = _forget(
        session,
        DenialRow.denial_id,
        or_(DenialRow.pupil_id.contains(insz), DenialRow.person_id.contains(insz)),
    )
    return {"views": views, "denials": denials, "events": events}


def _forget(session: Session, key: Any, naming: Any) -> int:
    keys = list(session.scalars(select(key).where(naming)))
    session.execute(delete(key.class_).where(naming).execution_options(synchronize_session=False))
    tombstone_records(session, keys)
    return len(keys)
