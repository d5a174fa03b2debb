"""Use cases of the access register: each runs in the caller's transaction, records an
audit entry for every change and queues exactly one `GrantChanged` per grant change."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from iris.contracts import ACCESS_GRANTS, GrantChanged
from iris.outbox import add_event
from services.access import domain
from services.access.models import AccessRequestRow, AuditRow, ClientRow, GrantRow, Outbox
from services.access.schools import kind_of
from services.access.secrets import hash_secret, new_client_id, new_secret, verify_secret


@dataclass(frozen=True)
class Outcome:
    grant: domain.Grant
    changed: bool


def _now() -> datetime:
    return datetime.now(UTC)


def audit(
    session: Session,
    school_id: str,
    actor: str,
    action: str,
    subject: str,
    person_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditRow(
            school_id=school_id,
            at=_now(),
            actor=actor,
            action=action,
            subject=subject,
            person_id=person_id,
            before=None if before is None else json.dumps(before, sort_keys=True),
            after=None if after is None else json.dumps(after, sort_keys=True),
        )
    )


# -- grants --------------------------------------------------------------------------------


def changed_event(grant: domain.Grant, changed_by: str) -> GrantChanged:
    return GrantChanged(
        grant_id=grant.grant_id,
        school_id=grant.school_id,
        person_id=grant.person_id,
        role=grant.role,
        pupil_ids=list(grant.pupil_ids) if grant.pupil_ids is not None else None,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        status=grant.status,
        version=grant.version,
        changed_by=changed_by,
    )


def _grant_of_person(session: Session, school_id: str, person_id: str) -> GrantRow | None:
    return session.scalar(
        select(GrantRow)
        .where(GrantRow.school_id == school_id, GrantRow.person_id == person_id)
        .with_for_update()
    )


def grant_row(session: Session, school_id: str, grant_id: str, lock: bool = False) -> GrantRow:
    query = select(GrantRow).where(GrantRow.grant_id == grant_id, GrantRow.school_id == school_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.AccessRuleBroken("grant_id", "no such grant at this school", 404)
    return row


def _store(
    session: Session, row: GrantRow | None, new: domain.Grant, actor: str, action: str
) -> None:
    before = row.to_domain().summary() if row is not None else None
    if row is None:
        row = GrantRow(grant_id=str(new.grant_id), school_id=new.school_id, person_id=new.person_id)
        session.add(row)
    row.role, row.valid_from, row.valid_until = new.role, new.valid_from, new.valid_until
    row.pupil_ids = None if new.pupil_ids is None else json.dumps(list(new.pupil_ids))
    row.status, row.version, row.changed_by, row.updated_at = (
        new.status,
        new.version,
        actor,
        _now(),
    )
    add_event(session, Outbox, ACCESS_GRANTS, new.key, changed_event(new, actor))
    audit(
        session,
        new.school_id,
        actor,
        action,
        str(new.grant_id),
        new.person_id,
        before,
        new.summary(),
    )
    session.flush()


def grant(
    session: Session,
    school_id: str,
    person_id: str,
    role: domain.Role,
    valid_from: date,
    valid_until: date | None,
    pupil_ids: list[str] | None,
    actor: str,
    today: date,
) -> Outcome:
    if role == "support_worker":
        domain.require_mainstream(kind_of(session, school_id))
    row = _grant_of_person(session, school_id, person_id)
    current = row.to_domain() if row else None
    new = domain.grant(
        current, school_id, person_id, role, valid_from, valid_until, pupil_ids, today
    )
    if new is None:
        assert current is not None
        return Outcome(current, False)
    _store(session, row, new, actor, "grant.created" if row is None else "grant.updated")
    return Outcome(new, True)


def revoke(session: Session, school_id: str, grant_id: str, actor: str) -> Outcome:
    row = grant_row(session, school_id, grant_id, lock=True)
    current = row.to_domain()
    new = domain.revoke(current)
    if new is None:
        return Outcome(current, False)
    _store(session, row, new, actor, "grant.revoked")
    return Outcome(new, True)


def expire_due(session: Session, today: date) -> list[domain.Grant]:
    """Mark every active grant whose period has passed as expired; returns them."""
    rows = session.scalars(
        select(GrantRow)
        .where(GrantRow.status == "active", GrantRow.valid_until < today)
        .order_by(GrantRow.valid_until)
        .limit(1000)
        .with_for_update(skip_locked=True)
    ).all()
    expired = []
    for row in rows:
        new = domain.expire(row.to_domain(), today)
        if new is not None:
            _store(session, row, new, domain.SYSTEM_EXPIRY, "grant.expired")
            expired.append(new)
    return expired


def grants_at(
    session: Session, school_id: str, role: str | None = None, status: str | None = None
) -> list[domain.Grant]:
    query = select(GrantRow).where(GrantRow.school_id == school_id)
    if role is not None:
        query = query.where(GrantRow.role == role)
    if status is not None:
        query = query.where(GrantRow.status == status)
    return [row.to_domain() for row in session.scalars(query.order_by(GrantRow.person_id))]


def schools_sending_support_requests(session: Session, person_id: str, today: date) -> list[str]:
    """The schools where the person holds an active care-coordinator or counsellor grant."""
    rows = session.scalars(
        select(GrantRow)
        .where(
            GrantRow.person_id == person_id,
            GrantRow.role.in_(domain.SUPPORT_REQUEST_ROLES),
            GrantRow.status == "active",
        )
        .order_by(GrantRow.school_id)
    )
    return [row.school_id for row in rows if row.valid_from <= today <= row.valid_until]


def republish(session: Session) -> int:
    """Queue the current state of every grant again (after the topic was lost)."""
    count = 0
    for row in session.scalars(select(GrantRow).order_by(GrantRow.school_id, GrantRow.person_id)):
        grant = row.to_domain()
        add_event(session, Outbox, ACCESS_GRANTS, grant.key, changed_event(grant, row.changed_by))
        count += 1
    return count


# -- access requests -----------------------------------------------------------------------


def file_request(
    session: Session,
    school_id: str,
    support_network: str,
    requested_by: str,
    person_id: str,
    pupil_ids: list[str],
    motivation: str,
) -> AccessRequestRow:
    row = AccessRequestRow(
        request_id=str(uuid.uuid4()),
        school_id=school_id,
        support_network=support_network,
        requested_by=requested_by,
        person_id=person_id,
        pupil_ids=json.dumps(sorted(set(pupil_ids))),
        motivation=motivation,
        status="pending",
        created_at=_now(),
    )
    session.add(row)
    audit(
        session,
        school_id,
        f"network:{support_network}",
        "request.filed",
        row.request_id,
        person_id,
        None,
        {"status": "pending", "pupil_ids": json.loads(row.pupil_ids)},
    )
    session.flush()
    return row


def request_row(
    session: Session, request_id: str, school_id: str | None = None, lock: bool = False
) -> AccessRequestRow:
    query = select(AccessRequestRow).where(AccessRequestRow.request_id == request_id)
    if school_id is not None:
        query = query.where(AccessRequestRow.school_id == school_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.AccessRuleBroken("request_id", "no such access request", 404)
    return row


def _pending(session: Session, school_id: str, request_id: str) -> AccessRequestRow:
    row = request_row(session, request_id, school_id, lock=True)
    if row.status != "pending":
        raise domain.AccessRuleBroken(
            "request_id", f"this access request was already {row.status}", 409
        )
    return row


def approve(
    session: Session,
    school_id: str,
    request_id: str,
    actor: str,
    today: date,
    valid_until: date | None = None,
) -> tuple[AccessRequestRow, Outcome]:
    row = _pending(session, school_id, request_id)
    domain.require_mainstream(kind_of(session, school_id))
    grant_row_ = _grant_of_person(session, school_id, row.person_id)
    current = grant_row_.to_domain() if grant_row_ else None
    new = domain.approve_support(
        current, school_id, row.person_id, json.loads(row.pupil_ids), today, valid_until
    )
    if new is not None:
        action = "grant.created" if grant_row_ is None else "grant.updated"
        _store(session, grant_row_, new, actor, action)
        outcome = Outcome(new, True)
    else:
        assert current is not None
        outcome = Outcome(current, False)
    row.status, row.decided_by, row.decided_at = "approved", actor, _now()
    row.grant_id = str(outcome.grant.grant_id)
    audit(
        session,
        school_id,
        actor,
        "request.approved",
        request_id,
        row.person_id,
        {"status": "pending"},
        {"status": "approved", "grant_id": row.grant_id},
    )
    session.flush()
    _decided(session, row, actor)
    return row, outcome


def reject(
    session: Session, school_id: str, request_id: str, reason: str, actor: str
) -> AccessRequestRow:
    row = _pending(session, school_id, request_id)
    row.status, row.reason, row.decided_by, row.decided_at = "rejected", reason, actor, _now()
    audit(
        session,
        school_id,
        actor,
        "request.rejected",
        request_id,
        row.person_id,
        {"status": "pending"},
        {"status": "rejected"},
    )
    session.flush()
    _decided(session, row, actor)
    return row


def _decided(session: Session, row: AccessRequestRow, actor: str) -> None:
    # support requests build on access requests, so that module imports this one
    from services.access.support import access_request_decided

    access_request_decided(session, row, actor)


def requests_at(
    session: Session, school_id: str, status: str | None = None
) -> list[AccessRequestRow]:
    query = select(AccessRequestRow).where(AccessRequestRow.school_id == school_id)
    if status is not None:
        query = query.where(AccessRequestRow.status == status)
    return list(session.scalars(query.order_by(AccessRequestRow.created_at)))


# -- school-software clients ---------------------------------------------------------------


def register_client(
    session: Session, school_id: str, name: str, actor: str
) -> tuple[ClientRow, str]:
    """A new client and its secret; the secret is returned here once and never stored."""
    secret = new_secret()
    row = ClientRow(
        client_id=new_client_id(),
        school_id=school_id,
        name=name,
        secret_hash=hash_secret(secret),
        status="active",
        created_by=actor,
        created_at=_now(),
    )
    session.add(row)
    audit(
        session,
        school_id,
        actor,
        "client.registered",
        row.client_id,
        None,
        None,
        {"name": name, "status": "active"},
    )
    session.flush()
    return row, secret


def client_row(session: Session, school_id: str, client_id: str, lock: bool = False) -> ClientRow:
    query = select(ClientRow).where(
        ClientRow.client_id == client_id, ClientRow.school_id == school_id
    )
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise domain.AccessRuleBroken("client_id", "no such client at this school", 404)
    return row


def revoke_client(session: Session, school_id: str, client_id: str, actor: str) -> ClientRow:
    row = client_row(session, school_id, client_id, lock=True)
    if row.status == "revoked":
        return row
    row.status, row.revoked_at = "revoked", _now()
    audit(
        session,
        school_id,
        actor,
        "client.revoked",
        client_id,
        None,
        {"status": "active"},
        {"status": "revoked"},
    )
    session.flush()
    return row


def clients_at(session: Session, school_id: str) -> list[ClientRow]:
    return list(
        session.scalars(
            select(ClientRow).where(ClientRow.school_id == school_id).order_by(ClientRow.created_at)
        )
    )


def authenticate_client(session: Session, client_id: str, secret: str) -> ClientRow | None:
    """The active client whose secret this is, else None (unknown, wrong or revoked alike)."""
    row = session.get(ClientRow, client_id)
    if row is None:
        verify_secret(secret, _DUMMY_HASH)  # spend the same time as for a known client
        return None
    if not verify_secret(secret, row.secret_hash) or row.status != "active":
        return None
    return row


_DUMMY_HASH = hash_secret("not a secret of any client")


def audit_at(session: Session, school_id: str, limit: int = 500) -> list[AuditRow]:
    return list(
        session.scalars(
            select(AuditRow)
            .where(AuditRow.school_id == school_id)
            .order_by(AuditRow.id.desc())
            .limit(limit)
        )
    )
