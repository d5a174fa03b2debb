"""The enrolment service's part of an erasure (iris.erasure): a pupil's enrolments, each
with a tombstone so that the access service and the viewer forget it too."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from iris.contracts import ENROLMENT_CHANGES, enrolment_key
from iris.erasure import Role, drop_outbox
from iris.outbox import add_tombstone
from services.enrolment.models import EnrolmentRow, Outbox


def erase(session: Session, role: Role, insz: str, _reference: str) -> dict[str, int]:
    events = drop_outbox(session, Outbox, insz)
    if role != "pupil":
        return {"events": events}
    schools = list(
        session.scalars(select(EnrolmentRow.school_id).where(EnrolmentRow.pupil_id == insz))
    )
    session.execute(delete(EnrolmentRow).where(EnrolmentRow.pupil_id == insz))
    for school_id in schools:
        add_tombstone(session, Outbox, ENROLMENT_CHANGES, enrolment_key(insz, school_id))
    return {"enrolments": len(schools), "events": events}
