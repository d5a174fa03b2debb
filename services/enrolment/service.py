"""Use cases of the register: each runs in the caller's transaction and queues
the canonical change in the outbox when, and only when, something changed."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from iris.contracts import (
    ENROLMENT_CHANGES,
    ENROLMENT_REJECTED,
    EnrolmentChanged,
    EnrolmentEnded,
    EnrolmentRegistered,
    Rejected,
)
from iris.outbox import add_event
from services.enrolment import domain
from services.enrolment.models import EnrolmentRow, Outbox, SeenEvent

# The tables themselves, for the batch path's Core statements.
ENROLMENTS = cast(Table, EnrolmentRow.__table__)
SEEN_EVENTS = cast(Table, SeenEvent.__table__)
OUTBOX = cast(Table, Outbox.__table__)


@dataclass(frozen=True)
class Outcome:
    enrolment: domain.Enrolment | None
    changed: bool


def _current(session: Session, pupil_id: str, school_id: str) -> EnrolmentRow | None:
    return session.scalar(
        select(EnrolmentRow)
        .where(EnrolmentRow.pupil_id == pupil_id, EnrolmentRow.school_id == school_id)
        .with_for_update()
    )


def _store(session: Session, row: EnrolmentRow | None, new: domain.Enrolment) -> None:
    now = datetime.now(UTC)
    if row is None:
        row = EnrolmentRow(pupil_id=new.pupil_id, school_id=new.school_id)
        session.add(row)
    row.start_date, row.end_date = new.start_date, new.end_date
    row.display_name, row.version, row.updated_at = new.display_name, new.version, now
    add_event(session, Outbox, ENROLMENT_CHANGES, new.pupil_id, changed_event(new))
    session.flush()


def changed_event(
    enrolment: domain.Enrolment, event_id: uuid.UUID | None = None
) -> EnrolmentChanged:
    return EnrolmentChanged(
        event_id=event_id or uuid.uuid4(),
        pupil_id=enrolment.pupil_id,
        school_id=enrolment.school_id,
        start_date=enrolment.start_date,
        end_date=enrolment.end_date,
        display_name=enrolment.display_name,
        version=enrolment.version,
    )


def register(
    session: Session,
    pupil_id: str,
    school_id: str,
    start_date: date,
    end_date: date | None,
    display_name: str | None,
) -> Outcome:
    row = _current(session, pupil_id, school_id)
    current = row.to_domain() if row else None
    new = domain.register(current, pupil_id, school_id, start_date, end_date, display_name)
    if new is None:
        return Outcome(current, False)
    _store(session, row, new)
    return Outcome(new, True)


def end(session: Session, pupil_id: str, school_id: str, end_date: date) -> Outcome:
    row = _current(session, pupil_id, school_id)
    current = row.to_domain() if row else None
    new = domain.end(current, end_date)
    if new is None:
        return Outcome(current, False)
    _store(session, row, new)
    return Outcome(new, True)


def apply_submission(session: Session, event: EnrolmentRegistered | EnrolmentEnded) -> Outcome:
    """Apply a submission from the topic once: a redelivered event id changes nothing."""
    event_id = str(event.event_id)
    if session.get(SeenEvent, event_id) is not None:
        return Outcome(None, False)
    session.add(SeenEvent(event_id=event_id, seen_at=datetime.now(UTC)))
    if isinstance(event, EnrolmentRegistered):
        return register(
            session,
            event.pupil_id,
            event.school_id,
            event.start_date,
            event.end_date,
            event.display_name,
        )
    return end(session, event.pupil_id, event.school_id, event.end_date)


def apply_submissions(
    session: Session, events: list[EnrolmentRegistered | EnrolmentEnded]
) -> list[Outcome | domain.EnrolmentRuleBroken]:
    """Apply a batch of submissions in the caller's transaction, in order, with a few
    statements for the whole batch: one read of the event ids already seen, one read
    (locking on PostgreSQL) of the current rows, and bulk writes. Each event's result is
    the same as `apply_submission` one by one; a broken rule marks only that event."""
    ids = list(dict.fromkeys(str(e.event_id) for e in events))
    seen: set[str] = set()
    for start in range(0, len(ids), 500):
        seen.update(
            session.scalars(
                select(SeenEvent.event_id).where(SeenEvent.event_id.in_(ids[start : start + 500]))
            )
        )
    pupils = sorted({e.pupil_id for e in events})
    c = ENROLMENTS.c
    ids_of: dict[tuple[str, str], int] = {}
    known: dict[tuple[str, str], domain.Enrolment] = {}
    for start in range(0, len(pupils), 500):
        query = (
            select(
                c.id, c.pupil_id, c.school_id, c.start_date, c.end_date, c.display_name, c.version
            )
            .where(c.pupil_id.in_(pupils[start : start + 500]))
            .order_by(c.id)
            .with_for_update()
        )
        for row_id, *fields in session.execute(query):
            enrolment = domain.Enrolment(*fields)
            pair = (enrolment.pupil_id, enrolment.school_id)
            ids_of[pair], known[pair] = row_id, enrolment
    current: dict[tuple[str, str], domain.Enrolment | None] = dict(known)
    results: list[Outcome | domain.EnrolmentRuleBroken] = []
    fresh_seen: list[dict[str, object]] = []
    dirty: dict[tuple[str, str], domain.Enrolment] = {}
    outbox: list[dict[str, object]] = []
    now = datetime.now(UTC)
    for event in events:
        event_id = str(event.event_id)
        if event_id in seen:
            results.append(Outcome(None, False))
            continue
        pair = (event.pupil_id, event.school_id)
        before = current.get(pair)
        try:
            if isinstance(event, EnrolmentRegistered):
                new = domain.register(
                    before,
                    event.pupil_id,
                    event.school_id,
                    event.start_date,
                    event.end_date,
                    event.display_name,
                )
            else:
                new = domain.end(before, event.end_date)
        except domain.EnrolmentRuleBroken as exc:
            results.append(exc)
            continue
        seen.add(event_id)
        fresh_seen.append({"event_id": event_id, "seen_at": now})
        if new is None:
            results.append(Outcome(before, False))
            continue
        current[pair] = dirty[pair] = new
        outbox.append(_outbox_row(_trusted_changed_event(new, now), now))
        results.append(Outcome(new, True))
    # Core statements on the session's connection: plain executemany, no ORM bookkeeping.
    connection = session.connection()
    if fresh_seen:
        connection.execute(insert(SEEN_EVENTS), fresh_seen)
    inserts = [_row_values(e, now) for pair, e in dirty.items() if pair not in ids_of]
    if inserts:
        connection.execute(insert(ENROLMENTS), inserts)
    updates = [
        {"row_id": ids_of[pair], **_row_values(e, now)}
        for pair, e in dirty.items()
        if pair in ids_of
    ]
    if updates:
        connection.execute(update(ENROLMENTS).where(c.id == bindparam("row_id")), updates)
    if outbox:
        connection.execute(insert(OUTBOX), outbox)
    return results


_ids = random.Random()  # seeded from the system's randomness once per process


def _fresh_id() -> uuid.UUID:
    """A version-4 event id without a system call per event (ids need only be unique)."""
    return uuid.UUID(int=_ids.getrandbits(128), version=4)


def _trusted_changed_event(enrolment: domain.Enrolment, now: datetime) -> EnrolmentChanged:
    """`changed_event` without validating again what the register already holds valid."""
    return EnrolmentChanged.model_construct(
        event_id=_fresh_id(),
        occurred_at=now,
        pupil_id=enrolment.pupil_id,
        school_id=enrolment.school_id,
        start_date=enrolment.start_date,
        end_date=enrolment.end_date,
        display_name=enrolment.display_name,
        version=enrolment.version,
    )


def _row_values(enrolment: domain.Enrolment, now: datetime) -> dict[str, object]:
    return {
        "pupil_id": enrolment.pupil_id,
        "school_id": enrolment.school_id,
        "start_date": enrolment.start_date,
        "end_date": enrolment.end_date,
        "display_name": enrolment.display_name,
        "version": enrolment.version,
        "updated_at": now,
    }


def _outbox_row(event: EnrolmentChanged, now: datetime) -> dict[str, object]:
    return {
        "topic": ENROLMENT_CHANGES.name,
        "key": event.pupil_id,
        "event_type": event.type,
        "event_id": str(event.event_id),
        "payload": event.model_dump_json(),
        "created_at": now,
    }


def reject(
    session: Session,
    key: str | None,
    original: bytes | None,
    reason: str,
    topic: str,
    partition: int,
    offset: int,
) -> None:
    text = (original or b"").decode("utf-8", errors="replace")
    add_event(
        session,
        Outbox,
        ENROLMENT_REJECTED,
        key or "",
        Rejected(original=text, reason=reason, topic=topic, partition=partition, offset=offset),
    )


def enrolments_of(
    session: Session, pupil_id: str, school_id: str | None = None
) -> list[domain.Enrolment]:
    query = select(EnrolmentRow).where(EnrolmentRow.pupil_id == pupil_id)
    if school_id is not None:
        query = query.where(EnrolmentRow.school_id == school_id)
    return [row.to_domain() for row in session.scalars(query.order_by(EnrolmentRow.start_date))]


def republish(session: Session) -> int:
    """Queue the current state of every enrolment again (after the topics were lost)."""
    count = 0
    for row in session.scalars(select(EnrolmentRow).order_by(EnrolmentRow.id)):
        add_event(session, Outbox, ENROLMENT_CHANGES, row.pupil_id, changed_event(row.to_domain()))
        count += 1
    return count
