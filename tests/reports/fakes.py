"""The report register in memory: the same port as the SQLAlchemy adapter, for tests of
the use cases that need no database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from iris.contracts import Event
from services.reports import domain
from services.reports.repository import ReportRepository


class FakeReportRepository(ReportRepository):
    def __init__(self) -> None:
        self.heads: dict[str, domain.Head] = {}
        self.reports: dict[uuid.UUID, domain.ReportVersion] = {}
        self.contents: dict[uuid.UUID, domain.Content] = {}
        self.retries: dict[tuple[str, str], tuple[uuid.UUID, str]] = {}
        self.withdrawn_by: dict[uuid.UUID, str] = {}
        self.published: list[tuple[str, Event]] = []

    def lock_head(self, pupil_id: str) -> domain.Head:
        return self.heads.setdefault(pupil_id, domain.Head())

    def save_head(self, pupil_id: str, head: domain.Head) -> None:
        self.heads[pupil_id] = head

    def retried(self, pupil_id: str, key: str) -> tuple[domain.ReportVersion, str | None] | None:
        found = self.retries.get((pupil_id, key))
        return (self.reports[found[0]], found[1]) if found else None

    def add(
        self, report: domain.ReportVersion, content: domain.Content, retry: domain.Retry | None
    ) -> None:
        self.reports[report.report_id] = report
        self.contents[report.report_id] = content
        if retry is not None:
            self.retries[(report.pupil_id, retry.key)] = (report.report_id, retry.digest)

    def get(self, report_id: uuid.UUID) -> domain.ReportVersion | None:
        return self.reports.get(report_id)

    def save_withdrawal(self, report: domain.ReportVersion, withdrawn_by: str) -> None:
        self.reports[report.report_id] = report
        self.withdrawn_by[report.report_id] = withdrawn_by

    def versions_of(self, pupil_id: str) -> list[domain.ReportVersion]:
        mine = [r for r in self.reports.values() if r.pupil_id == pupil_id]
        return sorted(mine, key=lambda r: r.version)

    def content_of(self, report_id: uuid.UUID) -> domain.Content | None:
        return self.contents.get(report_id)

    def every_version(self) -> Iterable[domain.ReportVersion]:
        return sorted(self.reports.values(), key=lambda r: (r.pupil_id, r.version))

    def publish(self, pupil_id: str, event: Event) -> None:
        self.published.append((pupil_id, event))
