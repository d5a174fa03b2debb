"""The access register's tables: grants, access requests, school-software clients, audit."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from iris.columns import Moment, PupilId, RowId, SchoolId, Version
from iris.outbox import OutboxMixin
from services.access.domain import Grant


class Base(DeclarativeBase):
    pass


class GrantRow(Base):
    __tablename__ = "access_grants"
    __table_args__ = (UniqueConstraint("school_id", "person_id", name="uq_access_grants_person"),)

    grant_id: Mapped[RowId]
    school_id: Mapped[SchoolId] = mapped_column(index=True)
    person_id: Mapped[PupilId]
    # the person's name as the responsible gave it or their sign-in's `name` claim; NULL:
    # not known (pages then show the INSZ masked)
    person_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    pupil_ids: Mapped[str | None] = mapped_column(Text)  # JSON list; NULL: the whole school
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[Version]
    changed_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[Moment]
    # iris: made in IRIS's pages or API; scim: kept by a school's user management
    source: Mapped[str] = mapped_column(String(8), default="iris", server_default="iris")

    def to_domain(self) -> Grant:
        pupils = None if self.pupil_ids is None else tuple(json.loads(self.pupil_ids))
        return Grant(
            uuid.UUID(self.grant_id),
            self.school_id,
            self.person_id,
            self.role,  # type: ignore[arg-type]
            pupils,
            self.valid_from,
            self.valid_until,
            self.status,  # type: ignore[arg-type]
            self.version,
            self.source,  # type: ignore[arg-type]
        )


class AccessRequestRow(Base):
    __tablename__ = "access_requests"

    request_id: Mapped[RowId]
    school_id: Mapped[SchoolId] = mapped_column(index=True)
    support_network: Mapped[str] = mapped_column(String(200), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[PupilId]
    person_name: Mapped[str | None] = mapped_column(String(200))  # as the network gave it
    pupil_ids: Mapped[str] = mapped_column(Text)  # JSON list
    motivation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending/approved/rejected
    reason: Mapped[str | None] = mapped_column(Text)
    grant_id: Mapped[str | None] = mapped_column(String(36))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[Moment]
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # set when the network filed it by accepting a school's support request
    support_request_id: Mapped[str | None] = mapped_column(String(36), index=True)


class ClientRow(Base):
    """A school-software client; only a salted hash of its secret is kept."""

    __tablename__ = "access_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[SchoolId] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # active/revoked
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[Moment]
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # JSON list of the origins whose pages may frame the viewer's /embed pages for this
    # school (services/access/client_frames.py); NULL: none
    frame_origins: Mapped[str | None] = mapped_column(Text)


class ServiceClientRow(Base):
    """A service of the platform (the viewer) that gets tokens for internal APIs; registered
    by an operator (`iris clients add`), only a salted hash of its secret is kept."""

    __tablename__ = "access_service_clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service: Mapped[str] = mapped_column(String(40), index=True)
    secret_hash: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # active/revoked
    created_at: Mapped[Moment]
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # set for a support network's software (service `support-network`): the network named
    # in its tokens' `support_network` claim
    support_network: Mapped[str | None] = mapped_column(String(200), index=True)
    # set for a school's user management (service `scim`): the directory whose users and
    # groups it keeps, and the JSON list of the schools its groups may name
    directory: Mapped[str | None] = mapped_column(String(200))
    schools: Mapped[str | None] = mapped_column(Text)


class ScimUserRow(Base):
    """A person as a school's user management (SCIM) keeps them: `document` is the SCIM
    resource as stored; the other columns are what IRIS searches and grants by."""

    __tablename__ = "access_scim_users"
    __table_args__ = (
        UniqueConstraint("directory", "user_name", name="uq_access_scim_users_user_name"),
    )

    id: Mapped[RowId]
    directory: Mapped[str] = mapped_column(String(200))
    user_name: Mapped[str] = mapped_column(String(11), index=True)  # the person's INSZ
    external_id: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    document: Mapped[str] = mapped_column(Text)
    version: Mapped[Version]
    created_at: Mapped[Moment]
    updated_at: Mapped[Moment]


class ScimGroupRow(Base):
    """A group of a school's user management: its name says the school and the role its
    members get (`IRIS-platform gebruiker — leraar — 031112`)."""

    __tablename__ = "access_scim_groups"

    id: Mapped[RowId]
    directory: Mapped[str] = mapped_column(String(200), index=True)
    display_name: Mapped[str] = mapped_column(String(300))
    external_id: Mapped[str | None] = mapped_column(String(200))
    school_id: Mapped[SchoolId]
    role: Mapped[str] = mapped_column(String(40))
    document: Mapped[str] = mapped_column(Text)
    version: Mapped[Version]
    created_at: Mapped[Moment]
    updated_at: Mapped[Moment]


class ScimMemberRow(Base):
    """A user's membership of a group (the group's `members`, kept for granting)."""

    __tablename__ = "access_scim_members"

    group_id: Mapped[RowId]
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class LaunchTicketRow(Base):
    """A single-use launch ticket school software obtained for one pupil, so that the
    viewer's frame URL holds no INSZ; only a hash of the ticket is kept."""

    __tablename__ = "access_launch_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[SchoolId]
    pupil_id: Mapped[PupilId]
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[Moment]
    expires_at: Mapped[Moment] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Every change at a school: who did what to which thing, when, before and after."""

    __tablename__ = "access_audit"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    school_id: Mapped[SchoolId] = mapped_column(index=True)
    at: Mapped[Moment]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(64))  # grant, request or client id
    person_id: Mapped[str | None] = mapped_column(String(11))
    before: Mapped[str | None] = mapped_column(Text)  # JSON summary
    after: Mapped[str | None] = mapped_column(Text)  # JSON summary


class SchoolRow(Base):
    """The register of schools (`iris schools import`): which ones are mainstream."""

    __tablename__ = "access_schools"

    school_id: Mapped[SchoolId] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))  # mainstream/special
    address: Mapped[str | None] = mapped_column(String(500))
    clb_id: Mapped[str | None] = mapped_column(String(12), index=True)  # the CLB serving it


class EnrolmentCopyRow(Base):
    """The access service's copy of the enrolment register, folded from
    `iris.enrolment.changes` by `iris worker access`."""

    __tablename__ = "access_enrolments"

    pupil_id: Mapped[PupilId] = mapped_column(primary_key=True)
    school_id: Mapped[SchoolId] = mapped_column(primary_key=True, index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    display_name: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[Version]


class SupportRequestRow(Base):
    """A school's *ondersteuningsvraag* to a support network about one pupil."""

    __tablename__ = "access_support_requests"

    support_request_id: Mapped[RowId]
    school_id: Mapped[SchoolId] = mapped_column(index=True)
    pupil_id: Mapped[PupilId]
    support_network: Mapped[str] = mapped_column(String(200), index=True)
    question: Mapped[str] = mapped_column(Text)  # free text: stays in this database
    sent_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    support_workers: Mapped[str | None] = mapped_column(Text)  # JSON list, once accepted
    decline_reason: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[Version]
    created_at: Mapped[Moment]
    updated_at: Mapped[Moment]


class MailRecipientRow(Base):
    """A person IRIS may e-mail (services/access/notifications.py): the address of their
    sign-in's `email` claim, the schools where they are responsible, their opt-out, and
    the day of their last digest (one a day at most)."""

    __tablename__ = "access_mail_recipients"

    person_id: Mapped[PupilId] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    responsible_of: Mapped[str | None] = mapped_column(Text)  # JSON list of school ids
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    last_digest_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[Moment]
    # the moment their last digest looked at the schools' news (services/access/news.py)
    news_told_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReportCopyRow(Base):
    """The access service's copy of the reports' metadata, folded from
    `iris.report.changes` by `iris worker access`: no content, only what tells which
    version of a pupil's report is current."""

    __tablename__ = "access_report_versions"

    pupil_id: Mapped[PupilId] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)


class SchoolNewsRow(Base):
    """Something new to see at a school (services/access/news.py): the current report
    version of a pupil registered there, and when the school first had it. No content and
    no name; the care coordinators' digest counts these."""

    __tablename__ = "access_school_news"

    school_id: Mapped[SchoolId] = mapped_column(primary_key=True)
    pupil_id: Mapped[PupilId] = mapped_column(primary_key=True)
    version: Mapped[Version]
    noticed_at: Mapped[Moment] = mapped_column(index=True)


class Outbox(OutboxMixin, Base):
    __tablename__ = "access_outbox"
