"""Use cases of the audit record; each runs in the caller's transaction and queues
the event for `iris.viewer.audit` in the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from iris.contracts import VIEWER_AUDIT, AccessDenied, ReportViewed
from iris.outbox import add_event
from services.viewer.models import Outbox, ViewRow


def new_view_id() -> str:
    """A view id of its own for every page served. Never derived from anything the client
    sends (an Idempotency-Key or X-Request-Id): a client that could choose it could make
    many views count as one and hide them from the pupil's parents."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class View:
    view_id: str
    pupil_id: str
    person_id: str
    person_name: str | None
    role: str
    school_id: str
    report_id: str
    version: int
    channel: str
    viewed_at: datetime


def viewed_event(view: View | ViewRow) -> ReportViewed:
    at = view.viewed_at if view.viewed_at.tzinfo else view.viewed_at.replace(tzinfo=UTC)
    return ReportViewed(
        view_id=uuid.UUID(view.view_id),
        person_id=view.person_id,
        role=view.role,
        school_id=view.school_id,
        pupil_id=view.pupil_id,
        report_id=uuid.UUID(view.report_id),
        version=view.version,
        channel=view.channel,  # type: ignore[arg-type]
        occurred_at=at,
    )


def republish(session: Session) -> int:
    """Queue every recorded view again (after the topics were lost); same view ids."""
    count = 0
    for row in session.scalars(select(ViewRow).order_by(ViewRow.viewed_at, ViewRow.view_id)):
        add_event(session, Outbox, VIEWER_AUDIT, row.pupil_id, viewed_event(row))
        count += 1
    return count


def record_denial(session: Session, person_id: str, pupil_id: str, reason: str) -> None:
    add_event(
        session,
        Outbox,
        VIEWER_AUDIT,
        pupil_id,
        AccessDenied(person_id=person_id, pupil_id=pupil_id, reason=reason),
    )


def views_of(session: Session, pupil_id: str, schools: set[str] | None = None) -> list[View]:
    """The views of a pupil's reports, newest first; only at `schools` when given."""
    query = select(ViewRow).where(ViewRow.pupil_id == pupil_id)
    if schools is not None:
        query = query.where(ViewRow.school_id.in_(sorted(schools)))
    return _views(session, query)


def views_at_school(session: Session, school_id: str, limit: int = 1000) -> list[View]:
    """The views of reports at one school, newest first."""
    query = select(ViewRow).where(ViewRow.school_id == school_id)
    return _views(session, query.limit(limit))


def _views(session: Session, query: Any) -> list[View]:
    rows = session.scalars(query.order_by(ViewRow.viewed_at.desc(), ViewRow.view_id))
    return [
        View(
            r.view_id,
            r.pupil_id,
            r.person_id,
            r.person_name,
            r.role,
            r.school_id,
            r.report_id,
            r.version,
            r.channel,
            r.viewed_at if r.viewed_at.tzinfo else r.viewed_at.replace(tzinfo=UTC),
        )
        for r in rows
    ]


def now() -> datetime:
    return datetime.now(UTC)
