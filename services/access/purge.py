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
from services.access import models, news

CLOSED_GRANT = ("revoked", "expired")
CLOSED_SUPPORT_REQUEST = ("declined", "granted", "refused")


def _closed_grants(session: Session, cutoff: datetime, limit: int | None) -> list[Any]:
    query = (
        select(models.GrantRow.grant_id, models.GrantRow.school_id, models.GrantRow.person_id)
        .where(models.GrantRow.status.in_(CLOSED_GRANT), models.GrantRow.updated_at < cutoff)
        .order_by(models.GrantRow.updated_at)
        .limit(limit)
    )
    return list(session.execute(query))


def _forget_grants(session: Session, rows: list[Any]) -> None:
    session.execute(
        delete(models.GrantRow).where(models.GrantRow.grant_id.in_([r.grant_id for r in rows]))
    )
    for row in rows:
        add_tombstone(session, models.Outbox, ACCESS_GRANTS, f"{row.school_id}:{row.person_id}")


def _tombstone_support_requests(session: Session, ids: list[Any]) -> None:
    for support_request_id in ids:
        add_tombstone(session, models.Outbox, ACCESS_SUPPORT_REQUESTS, support_request_id)


def _ended_enrolments(session: Session, cutoff: datetime, limit: int | None) -> list[Any]:
    row = models.EnrolmentCopyRow
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
            delete(models.EnrolmentCopyRow).where(
                models.EnrolmentCopyRow.pupil_id == found.pupil_id,
                models.EnrolmentCopyRow.school_id == found.school_id,
            )
        )


KINDS = (
    Kind("closed_grants", "closed_grant", _closed_grants, _forget_grants),
    rows_past(
        "decided_access_requests",
        "closed_request",
        models.AccessRequestRow.request_id,
        models.AccessRequestRow.decided_at,
        models.AccessRequestRow.status != "pending",
    ),
    rows_past(
        "closed_support_requests",
        "closed_request",
        models.SupportRequestRow.support_request_id,
        models.SupportRequestRow.updated_at,
        models.SupportRequestRow.status.in_(CLOSED_SUPPORT_REQUEST),
        then=_tombstone_support_requests,
    ),
    rows_past(
        "audit_entries", "audit", models.AuditRow.id, models.AuditRow.at, order=models.AuditRow.id
    ),
    rows_past(
        "revoked_clients",
        "audit",
        models.ClientRow.client_id,
        models.ClientRow.revoked_at,
        models.ClientRow.status == "revoked",
    ),
    Kind("ended_enrolments", "ended_enrolment", _ended_enrolments, _forget_enrolments),
    outbox_kind(models.Outbox),
)
