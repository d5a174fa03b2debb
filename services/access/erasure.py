"""The access service's part of an erasure (iris.erasure), and the record of it.

A pupil: the copy of their enrolments, their support requests (tombstones), and their
place in grants and access requests limited to them (a grant's new version names the
others only). A person: their grants (tombstones), access requests and Users of a user
management (SCIM), their place among a support request's workers; where they acted
(granted, decided, sent), `erased` stands in their stead and the record's new version is
published. The audit trail keeps its
entries with the INSZ replaced, and one `erasure` entry per school concerned names the
request's reference, never the INSZ."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from iris.contracts import ACCESS_GRANTS, ACCESS_SUPPORT_REQUESTS
from iris.erasure import ERASED, Role, drop_outbox, scrub
from iris.outbox import add_event, add_tombstone
from services.access import news, service, support
from services.access.models import (
    AccessRequestRow,
    AuditRow,
    ClientRow,
    EnrolmentCopyRow,
    GrantRow,
    MailRecipientRow,
    Outbox,
    SupportRequestRow,
)
from services.access.repository import SqlAccessRepository
from services.access.scim_storage import erase_person

ACTOR = "system:erasure"


def _without(listed: str | None, insz: str) -> str | None:
    return None if listed is None else json.dumps([p for p in json.loads(listed) if p != insz])


def _republish_grant(session: Session, row: GrantRow) -> None:
    row.version, row.updated_at = row.version + 1, datetime.now(UTC)
    grant = row.to_domain()
    add_event(session, Outbox, ACCESS_GRANTS, grant.key, service.changed_event(grant, ACTOR))


def _republish_support_request(session: Session, row: SupportRequestRow) -> None:
    row.version, row.updated_at = row.version + 1, datetime.now(UTC)
    session.flush()
    event = support.changed_event(session, row, ACTOR)
    add_event(session, Outbox, ACCESS_SUPPORT_REQUESTS, row.support_request_id, event)


def _erase_pupil(session: Session, insz: str) -> tuple[dict[str, int], set[str]]:
    schools: set[str] = set()
    copies = list(
        session.scalars(select(EnrolmentCopyRow).where(EnrolmentCopyRow.pupil_id == insz))
    )
    schools |= {c.school_id for c in copies}
    session.execute(delete(EnrolmentCopyRow).where(EnrolmentCopyRow.pupil_id == insz))
    grants = list(session.scalars(select(GrantRow).where(GrantRow.pupil_ids.contains(insz))))
    for row in grants:
        row.pupil_ids = _without(row.pupil_ids, insz)
        _republish_grant(session, row)
        schools.add(row.school_id)
    asked = list(
        session.scalars(select(AccessRequestRow).where(AccessRequestRow.pupil_ids.contains(insz)))
    )
    for request in asked:
        request.pupil_ids = _without(request.pupil_ids, insz) or "[]"
        if request.pupil_ids == "[]":
            session.delete(request)
    requests = list(
        session.scalars(select(SupportRequestRow).where(SupportRequestRow.pupil_id == insz))
    )
    for found in requests:
        schools.add(found.school_id)
        add_tombstone(session, Outbox, ACCESS_SUPPORT_REQUESTS, found.support_request_id)
        session.delete(found)
    counts = {
        "enrolment_copies": len(copies),
        "grants_narrowed": len(grants),
        "access_requests": len(asked),
        "support_requests": len(requests),
        "report_copies": news.forget_pupil(session, insz),
    }
    return counts, schools


def _erase_person(session: Session, insz: str) -> tuple[dict[str, int], set[str]]:
    held = list(session.scalars(select(GrantRow).where(GrantRow.person_id == insz)))
    schools = {g.school_id for g in held}
    for row in held:
        add_tombstone(session, Outbox, ACCESS_GRANTS, row.to_domain().key)
        session.delete(row)
    session.flush()
    made = list(session.scalars(select(GrantRow).where(GrantRow.changed_by == insz)))
    for row in made:
        row.changed_by = ERASED
        _republish_grant(session, row)
    asked = session.execute(delete(AccessRequestRow).where(AccessRequestRow.person_id == insz))
    scrub(session, AccessRequestRow, ["decided_by", "requested_by"], insz)
    named = list(
        session.scalars(
            select(SupportRequestRow).where(
                or_(
                    SupportRequestRow.support_workers.contains(insz),
                    SupportRequestRow.sent_by == insz,
                )
            )
        )
    )
    for found in named:
        found.support_workers = _without(found.support_workers, insz)
        found.sent_by = ERASED if found.sent_by == insz else found.sent_by
        _republish_support_request(session, found)
        schools.add(found.school_id)
    scrub(session, ClientRow, ["created_by"], insz)
    scim_users = erase_person(session, insz)
    session.execute(delete(MailRecipientRow).where(MailRecipientRow.person_id == insz))
    counts = {
        "grants": len(held),
        "grants_changed_by": len(made),
        "access_requests": int(getattr(asked, "rowcount", 0) or 0),
        "support_requests": len(named),
        "scim_users": scim_users,
    }
    return counts, schools


def erase(session: Session, role: Role, insz: str, reference: str) -> dict[str, int]:
    # first: what is queued below names the INSZ in its key (a tombstone) and must stay
    events = drop_outbox(session, Outbox, insz)
    counts, schools = (_erase_pupil if role == "pupil" else _erase_person)(session, insz)
    audited = session.scalars(
        select(AuditRow.school_id).where(
            or_(
                AuditRow.person_id == insz,
                AuditRow.actor.contains(insz),
                AuditRow.subject.contains(insz),
                AuditRow.before.contains(insz),
                AuditRow.after.contains(insz),
            )
        )
    )
    schools |= set(audited)
    session.execute(update(AuditRow).where(AuditRow.person_id == insz).values(person_id=None))
    counts["audit_entries"] = scrub(
        session, AuditRow, ["actor", "subject", "before", "after"], insz
    )
    counts["events"] = events
    for school_id in sorted(schools) or ["-"]:
        service.audit(SqlAccessRepository(session), school_id, ACTOR, "erasure", reference[:64])
    return counts
