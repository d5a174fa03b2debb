"""The enrolment register's tables."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from iris.columns import Moment, PupilId, RowId, SchoolId, Version
from iris.outbox import OutboxMixin
from services.enrolment.domain import Enrolment


class Base(DeclarativeBase):
    pass


class EnrolmentRow(Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("pupil_id", "school_id", name="uq_enrolments_pupil_school"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pupil_id: Mapped[PupilId] = mapped_column(index=True)
    school_id: Mapped[SchoolId] = mapped_column(index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    display_name: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[Version]
    updated_at: Mapped[Moment]
    combination: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ended_by_school_change: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    def to_domain(self) -> Enrolment:
        return Enrolment(
            self.pupil_id,
            self.school_id,
            self.start_date,
            self.end_date,
            self.display_name,
            self.version,
            self.combination,
            self.ended_by_school_change,
        )


class SeenEvent(Base):
    """Submission event ids already applied, so a redelivered submission changes nothing."""

    __tablename__ = "enrolment_seen_events"

    event_id: Mapped[RowId]
    seen_at: Mapped[Moment]


class Outbox(OutboxMixin, Base):
    __tablename__ = "enrolment_outbox"
