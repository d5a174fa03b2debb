"""What the enrolment service deletes once its retention period has passed (iris.retention):
ended enrolments (with a tombstone, so that every copy forgets them), the ids of applied
submissions, published events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from iris.contracts import ENROLMENT_CHANGES, enrolment_key
from iris.outbox import add_tombstone
from iris.retention import Kind, outbox_kind, rows_past
from services.enrolment.models import EnrolmentRow, Outbox, SeenEvent


def _ended_enrolments(session: Session, cutoff: datetime, limit: int | None) -> list[Any]:
    query = (
        select(EnrolmentRow.id, EnrolmentRow.pupil_id, EnrolmentRow.school_id)
        .where(EnrolmentRow.end_date.is_not(None), EnrolmentRow.end_date < cutoff.date())
        .order_by(EnrolmentRow.end_date, EnrolmentRow.id)
        .limit(limit)
    )
    return list(session.execute(query))


def _forget_enrolments(session: Session, rows: list[Any]) -> None:
    session.execute(delete(EnrolmentRow).where(EnrolmentRow.id.in_([r.id for r in rows])))
    for row in rows:
        add_tombstone(
            session, Outbox, ENROLMENT_CHANGES, enrolment_key(row.pupil_id, row.school_id)
        )


KINDS = (
    Kind("ended_enrolments", "ended_enrolment", _ended_enrolments, _forget_enrolments),
    # a submission's token lives minutes: one older than this is refused anyway
    rows_past("applied_submission_ids", "intake", SeenEvent.event_id, SeenEvent.seen_at),
    outbox_kind(Outbox),
)
