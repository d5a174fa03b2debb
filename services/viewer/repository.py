"""The viewer's record of views: its storage port, and its SQLAlchemy adapter.

The use cases (`service.py`) run against `ViewerRepository`; `SqlViewerRepository` keeps
the views (and the keys of the denials) in the viewer's database inside the caller's
transaction and queues the audit events (`iris.viewer.audit`) in the same transaction's
outbox; tests/viewer/fakes.py keeps them in memory."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from iris.contracts import VIEWER_AUDIT, AccessDenied, ReportViewed, audit_key
from iris.outbox import add_event
from services.viewer.models import DenialRow, Outbox, ViewRow


class Viewing(BaseModel):
    """What a reader is shown of a view (the API's answer, the views pages): who looked,
    in what role, at which school, which version, through which channel, when."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    view_id: str
    person_id: str
    person_name: str | None
    role: str
    school_id: str
    report_id: str
    version: int
    channel: str
    viewed_at: datetime

    @field_validator("viewed_at")
    @classmethod
    def _aware(cls, at: datetime) -> datetime:
        # SQLite hands back naive moments; they were stored in UTC
        return at if at.tzinfo else at.replace(tzinfo=UTC)


class View(Viewing):
    """One view as recorded: the viewing, and the pupil whose report it was."""

    pupil_id: str


class ViewerRepository(ABC):
    @abstractmethod
    def recorded(self, view_ids: Collection[str]) -> set[str]:
        """Which of these views are recorded already."""

    @abstractmethod
    def add_view(self, view: View) -> None: ...

    @abstractmethod
    def add_denial(self, denial: AccessDenied) -> None:
        """Keep which denial was told to the audit topic, whose and when (not the reason)."""

    @abstractmethod
    def views_of_pupil(self, pupil_id: str, school_ids: Collection[str] | None) -> list[View]:
        """The views of one pupil's reports, newest first; only at these schools if given."""

    @abstractmethod
    def views_at(self, school_id: str, limit: int) -> list[View]:
        """The newest views at one school, newest first."""

    @abstractmethod
    def every_view(self) -> list[View]:
        """Every recorded view, oldest first."""

    @abstractmethod
    def queue(self, event: ReportViewed | AccessDenied) -> None:
        """Queue an audit event, under its own key (`audit_key`), in the same transaction."""


class SqlViewerRepository(ViewerRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def recorded(self, view_ids: Collection[str]) -> set[str]:
        if not view_ids:
            return set()
        query = select(ViewRow.view_id).where(ViewRow.view_id.in_(list(view_ids)))
        return set(self.session.scalars(query))

    def add_view(self, view: View) -> None:
        self.session.add(ViewRow(**view.model_dump()))

    def add_denial(self, denial: AccessDenied) -> None:
        self.session.add(
            DenialRow(
                denial_id=str(denial.event_id),
                pupil_id=denial.pupil_id,
                person_id=denial.person_id,
                denied_at=denial.occurred_at,
            )
        )

    def views_of_pupil(self, pupil_id: str, school_ids: Collection[str] | None) -> list[View]:
        query = select(ViewRow).where(ViewRow.pupil_id == pupil_id)
        if school_ids is not None:
            query = query.where(ViewRow.school_id.in_(sorted(school_ids)))
        return self._read(query.order_by(ViewRow.viewed_at.desc(), ViewRow.view_id))

    def views_at(self, school_id: str, limit: int) -> list[View]:
        query = select(ViewRow).where(ViewRow.school_id == school_id)
        return self._read(query.order_by(ViewRow.viewed_at.desc(), ViewRow.view_id).limit(limit))

    def every_view(self) -> list[View]:
        return self._read(select(ViewRow).order_by(ViewRow.viewed_at, ViewRow.view_id))

    def queue(self, event: ReportViewed | AccessDenied) -> None:
        add_event(self.session, Outbox, VIEWER_AUDIT, audit_key(event), event)

    def _read(self, query: Any) -> list[View]:
        return [View.model_validate(row) for row in self.session.scalars(query)]
