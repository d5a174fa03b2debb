"""Use cases of the access register: each runs in the caller's transaction on an
`AccessRepository`, records an audit entry for every change and queues exactly one
`GrantChanged` per grant change."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from iris.contracts import GrantChanged
from iris.errors import NotFound
from services.access import domain
from services.access.models import AccessRequestRow, AuditRow, ClientRow
from services.access.repository import AccessRepository
from services.access.secrets import hash_secret, new_credentials, verify_secret

EXPIRY_BATCH = 1000
"""Grants expired per transaction: a long-missed expiry run catches up in batches."""


@dataclass(frozen=True)
class Outcome:
    grant: domain.Grant
    changed: bool


def _now() -> datetime:
    return datetime.now(UTC)


def audit(
    repo: AccessRepository,
    school_id: str,
    actor: str,
    action: str,
    subject: str,
    person_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    repo.record(
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
    """The grant as `iris.access.grants` tells it: every field of the grant, and who."""
    return GrantChanged(**asdict(grant), changed_by=changed_by)


def grant_at(
    repo: AccessRepository, school_id: str, grant_id: str, lock: bool = False
) -> domain.Grant:
    found = repo.grant(school_id, grant_id, lock)
    if found is None:
        raise NotFound("grant_id", "no such grant at this school")
    return found


def _store(
    repo: AccessRepository, before: domain.Grant | None, new: domain.Grant, actor: str, action: str
) -> None:
    repo.save_grant(new, actor)
    repo.queue(changed_event(new, actor))
    summary = before.summary() if before is not None else None
    audit(
        repo, new.school_id, actor, action, str(new.grant_id), new.person_id, summary, new.summary()
    )


def grant(
    repo: AccessRepository,
    school_id: str,
    person_id: str,
    role: domain.Role,
    valid_from: date,
    valid_until: date | None,
    pupil_ids: list[str] | None,
    actor: str,
    today: date,
    intent: domain.GrantIntent = "grant",
    source: domain.Source = "iris",
    person_name: str | None = None,
) -> Outcome:
    """Grant (or change) the person's access; `person_name`, when given, is kept with the
    grant so that pages name the person."""
    if role == "support_worker":
        domain.require_mainstream(repo.school_kind(school_id))
    current = repo.grant_of_person(school_id, person_id)
    domain.check_source(current, source)
    domain.check_intent(current, intent, today)
    new = domain.grant(
        current, school_id, person_id, role, valid_from, valid_until, pupil_ids, today
    )
    if new is not None and new.source != source:
        new = replace(new, source=source)
    if new is not None:
        _store(repo, current, new, actor, "grant.created" if current is None else "grant.updated")
    if person_name:
        repo.name_holder(school_id, person_id, person_name)
    if new is None:
        assert current is not None
        return Outcome(current, False)
    return Outcome(new, True)


def revoke(
    repo: AccessRepository,
    school_id: str,
    grant_id: str,
    actor: str,
    source: domain.Source = "iris",
) -> Outcome:
    current = grant_at(repo, school_id, grant_id, lock=True)
    domain.check_source(current, source)
    new = domain.revoke(current)
    if new is None:
        return Outcome(current, False)
    _store(repo, current, new, actor, "grant.revoked")
    return Outcome(new, True)


def expire_due(repo: AccessRepository, today: date) -> list[domain.Grant]:
    """Mark up to `EXPIRY_BATCH` active grants whose period has passed as expired;
    returns them."""
    expired = []
    for current in repo.due_for_expiry(today, EXPIRY_BATCH):
        new = domain.expire(current, today)
        if new is not None:
            _store(repo, current, new, domain.SYSTEM_EXPIRY, "grant.expired")
            expired.append(new)
    return expired


def grants_at(
    repo: AccessRepository, school_id: str, role: str | None = None, status: str | None = None
) -> list[domain.Grant]:
    return repo.grants_at(school_id, role, status)


def schools_sending_support_requests(
    repo: AccessRepository, person_id: str, today: date
) -> list[str]:
    """The schools where the person holds an active care-coordinator or counsellor grant."""
    grants = repo.active_grants_of(person_id, domain.SUPPORT_REQUEST_ROLES)
    return [g.school_id for g in grants if g.valid_from <= today <= g.valid_until]


def republish(repo: AccessRepository) -> int:
    """Queue the current state of every grant again (after the topic was lost)."""
    grants = repo.every_grant()
    for current, changed_by in grants:
        repo.queue(changed_event(current, changed_by))
    return len(grants)


# -- access requests -----------------------------------------------------------------------


def file_request(
    repo: AccessRepository,
    school_id: str,
    support_network: str,
    requested_by: str,
    person_id: str,
    pupil_ids: list[str],
    motivation: str,
    person_name: str | None = None,
) -> AccessRequestRow:
    pupils = sorted(set(pupil_ids))
    row = AccessRequestRow(
        request_id=str(uuid.uuid4()),
        school_id=school_id,
        support_network=support_network,
        requested_by=requested_by,
        person_id=person_id,
        person_name=person_name,
        pupil_ids=json.dumps(pupils),
        motivation=motivation,
        status="pending",
        created_at=_now(),
    )
    repo.add_request(row)
    after = {"status": "pending", "pupil_ids": pupils}
    network = f"network:{support_network}"
    audit(repo, school_id, network, "request.filed", row.request_id, person_id, None, after)
    return row


def request_row(
    repo: AccessRepository, request_id: str, school_id: str | None = None, lock: bool = False
) -> AccessRequestRow:
    row = repo.request(request_id, school_id, lock)
    if row is None:
        raise NotFound("request_id", "no such access request")
    return row


def _pending(repo: AccessRepository, school_id: str, request_id: str) -> AccessRequestRow:
    row = request_row(repo, request_id, school_id, lock=True)
    if row.status != "pending":
        raise domain.AccessRuleBroken(
            "request_id",
            "this access request was already %(state)s",
            409,
            code="already_decided",
            state=row.status,
        )
    return row


def approve(
    repo: AccessRepository,
    school_id: str,
    request_id: str,
    actor: str,
    today: date,
    valid_until: date | None = None,
) -> tuple[AccessRequestRow, Outcome]:
    row = _pending(repo, school_id, request_id)
    domain.require_mainstream(repo.school_kind(school_id))
    current = repo.grant_of_person(school_id, row.person_id)
    domain.check_source(current, "iris")
    pupils = json.loads(row.pupil_ids)
    new = domain.approve_support(current, school_id, row.person_id, pupils, today, valid_until)
    if new is not None:
        action = "grant.created" if current is None else "grant.updated"
        _store(repo, current, new, actor, action)
        outcome = Outcome(new, True)
    else:
        assert current is not None
        outcome = Outcome(current, False)
    if row.person_name:
        repo.name_holder(school_id, row.person_id, row.person_name)
    row.status, row.decided_by, row.decided_at = "approved", actor, _now()
    row.grant_id = str(outcome.grant.grant_id)
    _decided(repo, row, actor, {"status": "approved", "grant_id": row.grant_id})
    return row, outcome


def reject(
    repo: AccessRepository, school_id: str, request_id: str, reason: str, actor: str
) -> AccessRequestRow:
    row = _pending(repo, school_id, request_id)
    row.status, row.reason, row.decided_by, row.decided_at = "rejected", reason, actor, _now()
    _decided(repo, row, actor, {"status": "rejected"})
    return row


def _decided(
    repo: AccessRepository, row: AccessRequestRow, actor: str, after: dict[str, Any]
) -> None:
    action = f"request.{row.status}"
    before = {"status": "pending"}
    audit(repo, row.school_id, actor, action, row.request_id, row.person_id, before, after)
    repo.request_decided(row, actor)


def requests_at(
    repo: AccessRepository, school_id: str, status: str | None = None
) -> list[AccessRequestRow]:
    return repo.requests_at(school_id, status)


# -- school-software clients ---------------------------------------------------------------


def register_client(
    repo: AccessRepository, school_id: str, name: str, actor: str
) -> tuple[ClientRow, str]:
    """A new client and its secret; the secret is returned here once and never stored."""
    secret, credentials = new_credentials()
    row = ClientRow(
        **credentials, school_id=school_id, name=name, created_by=actor, created_at=_now()
    )
    repo.add_client(row)
    after = {"name": name, "status": "active"}
    audit(repo, school_id, actor, "client.registered", row.client_id, None, None, after)
    return row, secret


def client_row(
    repo: AccessRepository, school_id: str, client_id: str, lock: bool = False
) -> ClientRow:
    row = repo.client(school_id, client_id, lock)
    if row is None:
        raise NotFound("client_id", "no such client at this school")
    return row


def revoke_client(repo: AccessRepository, school_id: str, client_id: str, actor: str) -> ClientRow:
    row = client_row(repo, school_id, client_id, lock=True)
    if row.status == "revoked":
        return row
    row.status, row.revoked_at = "revoked", _now()
    before, after = {"status": "active"}, {"status": "revoked"}
    audit(repo, school_id, actor, "client.revoked", client_id, None, before, after)
    return row


def clients_at(repo: AccessRepository, school_id: str) -> list[ClientRow]:
    return repo.clients_at(school_id)


def authenticate_client(repo: AccessRepository, client_id: str, secret: str) -> ClientRow | None:
    """The active client whose secret this is, else None (unknown, wrong or revoked alike)."""
    row = repo.client_by_id(client_id)
    if row is None:
        verify_secret(secret, _DUMMY_HASH)  # spend the same time as for a known client
        return None
    if not verify_secret(secret, row.secret_hash) or row.status != "active":
        return None
    return row


_DUMMY_HASH = hash_secret("not a secret of any client")


def audit_at(repo: AccessRepository, school_id: str, limit: int = 500) -> list[AuditRow]:
    return repo.audit_at(school_id, limit)
