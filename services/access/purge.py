"""What the access service deletes once its retention period has passed (iris.retention):
closed grants, decided access requests, closed support requests, audit entries, revoked
school-software clients, ended enrolments of its copy of the register, published events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from iris.contracts import ACCESS_GRANTS, ACCESS_SUPPORT_REQUESTS
from iris.outbox import add_tombstone
from iris.retention import Kind, outbox_kind, rows_past
from services.access import news
from services.access.models import (
    AccessRequestRow,
    AuditRow,
    ClientRow,
    EnrolmentCopyRow,
    GrantRow,
    Outbox,
    SupportRequestRow,
)

CLOSED_GRANT = ("revoked", "expired")
CLOSED_SUPPORT_REQUEST = ("declined", "granted", "refused")


def _closed_grants(session: Session, cutoff: datetime, limit: int | None) -> list[Any]:
    query = (
        select(GrantRow.grant_id, GrantRow.school_id, GrantRow.person_id)
        .where(GrantRow.status.in_(CLOSED_GRANT), GrantRow.updated_at < cutoff)
        .order_by(GrantRow.updated_at)
        .limit(limit)
    )
    return list(session.execute(query))


def _forget_grants(session: Session, rows: list[Any]) -> None:
    session.execute(delete(GrantRow).where(GrantRow.grant_id.in_([r.grant_id for r in rows])))
    for row in rows:
        add_tombstone(session, Outbox, ACCESS_GRANTS, f"{row.school_id}:{row.person_id}")


def _tombstone_support_requests(session: Session, ids: list[Any]) -> None:
    for support_request_id in ids:
        add_tombstone(session, Outbox, ACCESS_SUPPORT_REQUESTS, support_request_id)


def _ended_enrolments(session: Session, cutoff: datetime, limit: int | None) -> list[Any]:
    row = EnrolmentCopyRow
    query = (
        select(row.pupil_id, row.school_id)
        .where(row.end_date.is_not(None), row.end_date < cutoff.date())
        .order_by(row.end_date)
        .limit(limit)
    )
    return list(session.execute(query))


def _forget_enrolments(session: Session, rows: list[Any]) -> None:
    news.forget_enrolments(session, [(found.pupil_id, found.school_id) for found in rows])
    for found in rows:
        session.execute(
            delete(EnrolmentCopyRow).where(
                EnrolmentCopyRow.pupil_id == found.pupil_id,
                EnrolmentCopyRow.school_id == found.school_id,
            )
        )


KINDS = (
    Kind("closed_grants", "closed_grant", _closed_grants, _forget_grants),
    rows_past(
        "decided_access_requests",
        "closed_request",
        AccessRequestRow.request_id,
        AccessRequestRow.decided_at,
        AccessRequestRow.status != "pending",
    ),
    rows_past(
        "closed_support_requests",
        "closed_request",
        SupportRequestRow.support_request_id,
        SupportRequestRow.updated_at,
        SupportRequestRow.status.in_(CLOSED_SUPPORT_REQUEST),
        then=_tombstone_support_requests,
    ),
    rows_past("audit_entries", "audit", AuditRow.id, AuditRow.at, order=AuditRow.id),
    rows_past(
        "revoked_clients",
        "audit",
        ClientRow.client_id,
        ClientRow.revoked_at,
        ClientRow.status == "revoked",
    ),
    Kind("ended_enrolments", "ended_enrolment", _ended_enrolments, _forget_enrolments),
    outbox_kind(Outbox),
)
