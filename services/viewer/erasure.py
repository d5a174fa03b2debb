"""The viewer's part of an erasure (iris.erasure): the views of a pupil's reports, and the
views a person made. Its cache forgets through the tombstones the other services publish."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from iris.erasure import Role, drop_outbox
from services.viewer.models import Outbox, ViewRow


def erase(session: Session, role: Role, insz: str, _reference: str) -> dict[str, int]:
    events = drop_outbox(session, Outbox, insz)
    column = ViewRow.pupil_id if role == "pupil" else ViewRow.person_id
    result = session.execute(delete(ViewRow).where(column == insz))
    return {"views": int(getattr(result, "rowcount", 0) or 0), "events": events}
