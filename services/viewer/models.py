"""The viewer's own tables: the durable record of views, the denials told to the audit
topic, and its outbox."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from iris.columns import Moment, PupilId, RowId, SchoolId, Version
from iris.outbox import OutboxMixin


class Base(DeclarativeBase):
    pass


class ViewRow(Base):
    """One view of a report: who, in what role, at which school, which version, when."""

    __tablename__ = "views"

    view_id: Mapped[RowId]
    pupil_id: Mapped[PupilId] = mapped_column(index=True)
    person_id: Mapped[str] = mapped_column(String(100))
    person_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    school_id: Mapped[SchoolId] = mapped_column(index=True)
    report_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[Version]
    channel: Mapped[str] = mapped_column(String(20))
    viewed_at: Mapped[Moment]


class DenialRow(Base):
    """A refused view as told to `iris.viewer.audit`: its key there, whose it was and when,
    so that the purge and an erasure can tombstone it (the reason travels on the topic)."""

    __tablename__ = "denials"

    denial_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the event_id
    pupil_id: Mapped[str] = mapped_column(Text, index=True)  # as asked: maybe no INSZ
    person_id: Mapped[str] = mapped_column(Text, index=True)
    denied_at: Mapped[Moment] = mapped_column(index=True)


class Outbox(OutboxMixin, Base):
    __tablename__ = "viewer_outbox"
