"""The viewer's record of views in memory: the same port as the SQLAlchemy adapter, for
tests of the use cases that need no database."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from iris.contracts import AccessDenied, ReportViewed, audit_key
from services.viewer.repository import View, ViewerRepository


class FakeViewerRepository(ViewerRepository):
    def __init__(self) -> None:
        self.recorded_views: dict[str, View] = {}
        self.queued: list[tuple[str, ReportViewed | AccessDenied]] = []
        self.denials: dict[str, AccessDenied] = {}

    def recorded(self, view_ids: Collection[str]) -> set[str]:
        return self.recorded_views.keys() & set(view_ids)

    def add_view(self, view: View) -> None:
        assert view.view_id not in self.recorded_views, "the primary key would refuse it"
        self.recorded_views[view.view_id] = view

    def add_denial(self, denial: AccessDenied) -> None:
        self.denials[str(denial.event_id)] = denial

    def views_of_pupil(self, pupil_id: str, school_ids: Collection[str] | None) -> list[View]:
        return self._newest_first(
            v
            for v in self.recorded_views.values()
            if v.pupil_id == pupil_id and (school_ids is None or v.school_id in school_ids)
        )

    def views_at(self, school_id: str, limit: int) -> list[View]:
        found = (v for v in self.recorded_views.values() if v.school_id == school_id)
        return self._newest_first(found)[:limit]

    @staticmethod
    def _newest_first(views: Iterable[View]) -> list[View]:
        by_id = sorted(views, key=lambda v: v.view_id)
        return sorted(by_id, key=lambda v: v.viewed_at, reverse=True)  # stable: ties by id

    def every_view(self) -> list[View]:
        return sorted(self.recorded_views.values(), key=lambda v: (v.viewed_at, v.view_id))

    def queue(self, event: ReportViewed | AccessDenied) -> None:
        self.queued.append((audit_key(event), event))
