"""The report register's storage port, and its SQLAlchemy adapter.

The use cases (`service.py`) run against `ReportRepository`; `SqlReportRepository` keeps
the register in the service's database, inside the caller's transaction, and queues
events in the same transaction's outbox; tests/reports/fakes.py keeps it in memory."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from iris.contracts import REPORT_CHANGES, Event, ReportIssued, ReportWithdrawn, report_key
from iris.outbox import add_event
from services.reports import domain
from services.reports.models import Outbox, ReportContent, ReportHead, ReportRow


class ReportRepository(ABC):
    """One transaction's view of the register: a use case reads and changes it through
    these, and everything it did is kept together or not at all."""

    @abstractmethod
    def lock_head(self, pupil_id: str) -> domain.Head:
        """The pupil's head (created if missing), held until the transaction ends, so
        versions and sequences come out gapless and in order."""

    @abstractmethod
    def save_head(self, pupil_id: str, head: domain.Head) -> None: ...

    @abstractmethod
    def retried(self, pupil_id: str, key: str) -> tuple[domain.ReportVersion, str | None] | None:
        """The version an earlier request with this Idempotency-Key made, and its digest."""

    @abstractmethod
    def add(
        self, report: domain.ReportVersion, content: domain.Content, retry: domain.Retry | None
    ) -> None: ...

    @abstractmethod
    def get(self, report_id: uuid.UUID) -> domain.ReportVersion | None:
        """The version as stored now (a concurrent change included)."""

    @abstractmethod
    def save_withdrawal(self, report: domain.ReportVersion, withdrawn_by: str) -> None: ...

    @abstractmethod
    def versions_of(self, pupil_id: str) -> list[domain.ReportVersion]:
        """The pupil's versions, oldest first."""

    @abstractmethod
    def content_of(self, report_id: uuid.UUID) -> domain.Content | None: ...

    @abstractmethod
    def every_version(self) -> Iterable[domain.ReportVersion]: ...

    @abstractmethod
    def publish(self, pupil_id: str, event: Event) -> None:
        """Queue a change on `iris.report.changes`, published once the transaction holds."""


class SqlReportRepository(ReportRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_head(self, pupil_id: str) -> domain.Head:
        # SQLite takes the database write lock at BEGIN IMMEDIATE already; PostgreSQL
        # locks the row (FOR UPDATE), and a concurrent first insert waits for the winner.
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.session.execute(
            insert(ReportHead)
            .values(pupil_id=pupil_id, last_version=0, last_sequence=0)
            .on_conflict_do_nothing(index_elements=["pupil_id"])
        )
        head = self.session.scalar(
            select(ReportHead)
            .where(ReportHead.pupil_id == pupil_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert head is not None
        return head.to_domain()

    def save_head(self, pupil_id: str, head: domain.Head) -> None:
        row = self.session.get(ReportHead, pupil_id)
        assert row is not None
        row.last_version, row.last_sequence = head.last_version, head.last_sequence

    def retried(self, pupil_id: str, key: str) -> tuple[domain.ReportVersion, str | None] | None:
        earlier = self.session.scalar(
            select(ReportRow).where(
                ReportRow.pupil_id == pupil_id, ReportRow.idempotency_key == key
            )
        )
        return (earlier.to_domain(), earlier.request_digest) if earlier is not None else None

    def add(
        self, report: domain.ReportVersion, content: domain.Content, retry: domain.Retry | None
    ) -> None:
        self.session.add(
            ReportRow(
                report_id=report.report_id,
                pupil_id=report.pupil_id,
                version=report.version,
                kind=report.kind,
                clb_id=report.clb_id,
                valid_from=report.valid_from,
                type=report.type,
                opleidingsvorm=report.opleidingsvorm,
                level=report.level,
                issued_at=report.issued_at,
                issued_by=report.issued_by,
                issued_by_name=report.issued_by_name,
                issue_sequence=report.issue_sequence,
                idempotency_key=retry.key if retry else None,
                request_digest=retry.digest if retry else None,
            )
        )
        self.session.flush()
        self.session.add(ReportContent(report_id=report.report_id, **vars(content)))

    def get(self, report_id: uuid.UUID) -> domain.ReportVersion | None:
        row = self.session.scalar(
            select(ReportRow)
            .where(ReportRow.report_id == report_id)
            .execution_options(populate_existing=True)
        )
        return row.to_domain() if row else None

    def save_withdrawal(self, report: domain.ReportVersion, withdrawn_by: str) -> None:
        row = self.session.get(ReportRow, report.report_id)
        assert row is not None
        row.withdrawn_at, row.withdrawn_on = report.withdrawn_at, report.withdrawn_on
        row.withdrawn_by, row.withdraw_sequence = withdrawn_by, report.withdraw_sequence
        row.withdrawal_reason = report.withdrawal_reason

    def versions_of(self, pupil_id: str) -> list[domain.ReportVersion]:
        rows = self.session.scalars(
            select(ReportRow).where(ReportRow.pupil_id == pupil_id).order_by(ReportRow.version)
        )
        return [row.to_domain() for row in rows]

    def content_of(self, report_id: uuid.UUID) -> domain.Content | None:
        row = self.session.get(ReportContent, report_id)
        if row is None:
            return None
        return domain.Content(row.needs, row.advice, row.measures_taken, row.reasoning)

    def every_version(self) -> Iterable[domain.ReportVersion]:
        rows = self.session.scalars(
            select(ReportRow).order_by(ReportRow.pupil_id, ReportRow.version)
        )
        return (row.to_domain() for row in rows)

    def publish(self, pupil_id: str, event: Event) -> None:
        assert isinstance(event, ReportIssued | ReportWithdrawn)
        key = report_key(pupil_id, event.version)  # one key per version: see report_key
        add_event(self.session, Outbox, REPORT_CHANGES, key, event)
        self.session.flush()
