"""The viewer's own tables: the durable record of views, and its outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from iris.outbox import OutboxMixin


class Base(DeclarativeBase):
    pass


class ViewRow(Base):
    """One view of a report: who, in what role, at which school, which version, when."""

    __tablename__ = "views"

    view_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pupil_id: Mapped[str] = mapped_column(String(11), index=True)
    person_id: Mapped[str] = mapped_column(String(100))
    person_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(50))
    school_id: Mapped[str] = mapped_column(String(12), index=True)
    report_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Outbox(OutboxMixin, Base):
    __tablename__ = "viewer_outbox"
