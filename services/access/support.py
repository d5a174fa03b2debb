"""Use cases of the support request (*ondersteuningsvraag*): a school asks a support
network for support for one pupil; the network declines, or accepts by naming its
support workers, which files one access request per worker at the school, limited to
that pupil; the school responsible decides those as any other. Every step raises the
request's version and queues one `SupportRequestChanged` (without the question)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from iris.contracts import ACCESS_SUPPORT_REQUESTS, SupportRequestChanged
from iris.errors import NotFound
from iris.outbox import add_event
from services.access import domain, enrolments, service
from services.access.models import (
    AccessRequestRow,
    EnrolmentCopyRow,
    GrantRow,
    Outbox,
    SupportRequestRow,
)
from services.access.repository import SqlAccessRepository
from services.access.schools import kind_of


def _now() -> datetime:
    return datetime.now(UTC)


def access_requests_of(session: Session, support_request_id: str) -> list[AccessRequestRow]:
    return list(
        session.scalars(
            select(AccessRequestRow)
            .where(AccessRequestRow.support_request_id == support_request_id)
            .order_by(AccessRequestRow.created_at, AccessRequestRow.person_id)
        )
    )


def changed_event(session: Session, row: SupportRequestRow, actor: str) -> SupportRequestChanged:
    return SupportRequestChanged(
        support_request_id=uuid.UUID(row.support_request_id),
        school_id=row.school_id,
        pupil_id=row.pupil_id,
        support_network=row.support_network,
        status=row.status,  # type: ignore[arg-type]
        support_workers=json.loads(row.support_workers or "[]"),
        access_request_ids=[
            uuid.UUID(r.request_id) for r in access_requests_of(session, row.support_request_id)
        ],
        version=row.version,
        changed_by=actor,
    )


def _publish(session: Session, row: SupportRequestRow, actor: str, before: str | None) -> None:
    session.flush()
    add_event(
        session,
        Outbox,
        ACCESS_SUPPORT_REQUESTS,
        row.support_request_id,
        changed_event(session, row, actor),
    )
    service.audit(
        SqlAccessRepository(session),
        row.school_id,
        actor,
        f"support.{row.status}",
        row.support_request_id,
        None,
        None if before is None else {"status": before},
        {"status": row.status, "pupil_id": row.pupil_id, "network": row.support_network},
    )
    session.flush()


def is_registered(session: Session, school_id: str, pupil_id: str, today: date) -> bool:
    """The pupil is registered at the school (the copy of the enrolment register)."""
    row = session.get(EnrolmentCopyRow, (pupil_id, school_id))
    return row is not None and domain.is_registered_on(row.start_date, row.end_date, today)


def _grant_of(session: Session, school_id: str, person_id: str) -> domain.Grant | None:
    row = session.scalar(
        select(GrantRow).where(GrantRow.school_id == school_id, GrantRow.person_id == person_id)
    )
    return None if row is None else row.to_domain()


def may_follow(
    session: Session,
    school_id: str,
    person_id: str,
    responsible: bool,
    pupil_id: str | None,
    today: date,
) -> bool:
    """The school responsible, or a care coordinator or pupil counsellor at the school
    (whose grant covers the pupil, when one is named)."""
    if responsible:
        return True
    return domain.may_ask_for_support(_grant_of(session, school_id, person_id), pupil_id, today)


def followed_by(
    session: Session, school_id: str, person_id: str, responsible: bool, today: date
) -> list[SupportRequestRow]:
    """The school's support requests this person may follow, newest first: the responsible
    all of them, a care coordinator or counsellor those about pupils of their grant."""
    rows = at_school(session, school_id)
    if responsible:
        return rows
    grant = _grant_of(session, school_id, person_id)
    return [row for row in rows if domain.may_ask_for_support(grant, row.pupil_id, today)]


def send(
    session: Session,
    school_id: str,
    pupil_id: str,
    support_network: str,
    question: str,
    actor: str,
    today: date,
) -> SupportRequestRow:
    domain.require_mainstream(kind_of(session, school_id))
    if not is_registered(session, school_id, pupil_id, today):
        raise domain.AccessRuleBroken(
            "pupil_id", "this pupil is not enrolled at this school", code="not_enrolled"
        )
    now = _now()
    row = SupportRequestRow(
        support_request_id=str(uuid.uuid4()),
        school_id=school_id,
        pupil_id=pupil_id,
        support_network=support_network,
        question=question,
        sent_by=actor,
        status="sent",
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    _publish(session, row, actor, None)
    return row


def support_request_row(
    session: Session,
    support_request_id: str,
    school_id: str | None = None,
    network: str | None = None,
    lock: bool = False,
) -> SupportRequestRow:
    query = select(SupportRequestRow).where(
        SupportRequestRow.support_request_id == support_request_id
    )
    if school_id is not None:
        query = query.where(SupportRequestRow.school_id == school_id)
    if network is not None:
        query = query.where(SupportRequestRow.support_network == network)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound("support_request_id", "no such support request")
    return row


def _step(row: SupportRequestRow, status: str) -> str:
    before = row.status
    row.status, row.version, row.updated_at = status, row.version + 1, _now()
    return before


def accept(
    session: Session,
    network: str,
    support_request_id: str,
    support_workers: list[str],
    actor: str,
) -> SupportRequestRow:
    row = support_request_row(session, support_request_id, network=network, lock=True)
    domain.answerable(row.status)
    domain.require_mainstream(kind_of(session, row.school_id))
    workers = sorted(set(support_workers))
    for worker in workers:
        filed = service.file_request(
            SqlAccessRepository(session),
            row.school_id,
            network,
            actor,
            worker,
            [row.pupil_id],
            f"Ondersteuningsvraag {support_request_id}",
        )
        filed.support_request_id = support_request_id
    row.support_workers, row.answered_by = json.dumps(workers), actor
    before = _step(row, "accepted")
    _publish(session, row, f"network:{network}", before)
    return row


def decline(
    session: Session, network: str, support_request_id: str, reason: str, actor: str
) -> SupportRequestRow:
    row = support_request_row(session, support_request_id, network=network, lock=True)
    domain.answerable(row.status)
    row.decline_reason, row.answered_by = reason, actor
    before = _step(row, "declined")
    _publish(session, row, f"network:{network}", before)
    return row


def access_request_decided(session: Session, request: AccessRequestRow, actor: str) -> None:
    """The school decided one of the access requests a support request filed."""
    if request.support_request_id is None:
        return
    row = support_request_row(session, request.support_request_id, lock=True)
    session.flush()
    status = domain.support_status(
        [r.status for r in access_requests_of(session, row.support_request_id)]
    )
    if status == row.status:
        return
    before = _step(row, status)
    _publish(session, row, actor, before)


def pupil_names(session: Session, school_id: str, pupil_ids: list[str]) -> dict[str, str]:
    return enrolments.display_names(session, school_id, pupil_ids)


def _newest_first(session: Session, which: Any) -> list[SupportRequestRow]:
    query = select(SupportRequestRow).where(which).order_by(SupportRequestRow.created_at.desc())
    return list(session.scalars(query))


def at_school(session: Session, school_id: str) -> list[SupportRequestRow]:
    return _newest_first(session, SupportRequestRow.school_id == school_id)


def of_network(session: Session, network: str) -> list[SupportRequestRow]:
    return _newest_first(session, SupportRequestRow.support_network == network)


def republish(session: Session) -> int:
    """Queue the current state of every support request again (after the topic was lost)."""
    count = 0
    for row in session.scalars(select(SupportRequestRow).order_by(SupportRequestRow.created_at)):
        add_event(
            session,
            Outbox,
            ACCESS_SUPPORT_REQUESTS,
            row.support_request_id,
            changed_event(session, row, "system:republish"),
        )
        count += 1
    return count
