"""Use cases of the audit record: views and denials recorded, each with its event for
`iris.viewer.audit` queued in the same transaction, and the views read back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from iris.contracts import AccessDenied, ReportViewed
from services.viewer.repository import View, ViewerRepository

__all__ = ["Denial", "View", "new_view_id", "record", "republish", "views_at_school", "views_of"]


def new_view_id() -> str:
    """A view id of its own for every page served. Never derived from anything the client
    sends (an Idempotency-Key or X-Request-Id): a client that could choose it could make
    many views count as one and hide them from the pupil's parents."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Denial:
    person_id: str
    pupil_id: str
    reason: str


def viewed_event(view: View) -> ReportViewed:
    return ReportViewed(
        view_id=uuid.UUID(view.view_id),
        person_id=view.person_id,
        role=view.role,
        school_id=view.school_id,
        pupil_id=view.pupil_id,
        report_id=uuid.UUID(view.report_id),
        version=view.version,
        channel=view.channel,  # type: ignore[arg-type]
        occurred_at=view.viewed_at,
    )


def record(repo: ViewerRepository, entries: list[View | Denial]) -> list[bool]:
    """Record views and denials, each with its audit event. A view whose id is recorded
    already (a retried request) is recorded once: False for the repeat, else True."""
    known = repo.recorded({e.view_id for e in entries if isinstance(e, View)})
    results = []
    for entry in entries:
        if isinstance(entry, Denial):
            denied = AccessDenied(
                person_id=entry.person_id, pupil_id=entry.pupil_id, reason=entry.reason
            )
            repo.add_denial(denied)
            repo.queue(denied)
            results.append(True)
        elif entry.view_id in known:
            results.append(False)
        else:
            known.add(entry.view_id)
            repo.add_view(entry)
            repo.queue(viewed_event(entry))
            results.append(True)
    return results


def republish(repo: ViewerRepository) -> int:
    """Queue every recorded view again (after the topics were lost); same view ids."""
    views = repo.every_view()
    for view in views:
        repo.queue(viewed_event(view))
    return len(views)


def views_of(repo: ViewerRepository, pupil_id: str, schools: set[str] | None = None) -> list[View]:
    """The views of a pupil's reports, newest first; only at `schools` when given."""
    return repo.views_of_pupil(pupil_id, schools)


def views_at_school(repo: ViewerRepository, school_id: str, limit: int = 1000) -> list[View]:
    """The views of reports at one school, newest first."""
    return repo.views_at(school_id, limit)


def now() -> datetime:
    return datetime.now(UTC)
