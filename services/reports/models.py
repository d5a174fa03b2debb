"""The report register's tables."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from iris.columns import Moment, PupilId, SchoolId, Version
from iris.outbox import OutboxMixin
from services.reports.domain import Head, ReportVersion


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored moment is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class ReportHead(Base):
    """One row per pupil, locked while a change is made, so versions and sequences
    are handed out one at a time and without gaps."""

    __tablename__ = "report_heads"

    pupil_id: Mapped[PupilId] = mapped_column(primary_key=True)
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)

    def to_domain(self) -> Head:
        return Head(self.last_version, self.last_sequence)


class ReportRow(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("pupil_id", "version", name="uq_reports_pupil_version"),
        UniqueConstraint("pupil_id", "issue_sequence", name="uq_reports_pupil_issue_sequence"),
        UniqueConstraint("pupil_id", "idempotency_key", name="uq_reports_pupil_idempotency_key"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    pupil_id: Mapped[str] = mapped_column(
        String(11), ForeignKey("report_heads.pupil_id"), index=True
    )
    version: Mapped[Version]
    kind: Mapped[str] = mapped_column(String(8))
    clb_id: Mapped[SchoolId] = mapped_column(index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    type: Mapped[str | None] = mapped_column(String(16))
    opleidingsvorm: Mapped[int | None] = mapped_column(SmallInteger)
    level: Mapped[str | None] = mapped_column(String(16))
    issued_at: Mapped[Moment]
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_by_name: Mapped[str | None] = mapped_column(String(200))
    issue_sequence: Mapped[int] = mapped_column(Integer)
    # A client's Idempotency-Key and a digest of its request: a retry finds its report.
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_digest: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    withdraw_sequence: Mapped[int | None] = mapped_column(Integer)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    def to_domain(self) -> ReportVersion:
        return ReportVersion(
            report_id=self.report_id,
            pupil_id=self.pupil_id,
            version=self.version,
            kind=self.kind,
            clb_id=self.clb_id,
            valid_from=self.valid_from,
            issued_at=aware(self.issued_at),
            type=self.type,
            opleidingsvorm=self.opleidingsvorm,
            level=self.level,
            issue_sequence=self.issue_sequence,
            withdrawn_at=aware(self.withdrawn_at) if self.withdrawn_at else None,
            withdrawn_on=self.withdrawn_on,
            withdraw_sequence=self.withdraw_sequence,
            issued_by=self.issued_by,
            issued_by_name=self.issued_by_name,
            withdrawal_reason=self.withdrawal_reason,
        )


class ReportContent(Base):
    """The sections of one version: private, never on a topic, in a log or in an error."""

    __tablename__ = "report_contents"

    report_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reports.report_id"), primary_key=True
    )
    needs: Mapped[str] = mapped_column(Text)
    advice: Mapped[str] = mapped_column(Text)
    measures_taken: Mapped[str] = mapped_column(Text)
    reasoning: Mapped[str] = mapped_column(Text)


class Outbox(OutboxMixin, Base):
    __tablename__ = "reports_outbox"
