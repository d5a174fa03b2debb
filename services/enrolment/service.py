"""Use cases of the register: each runs in the caller's transaction and queues
the canonical change in the outbox when, and only when, something changed."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from iris.contracts import (
    ENROLMENT_CHANGES,
    ENROLMENT_REJECTED,
    EnrolmentChanged,
    EnrolmentEnded,
    EnrolmentRegistered,
    Rejected,
    enrolment_key,
)
from iris.outbox import add_event
from services.enrolment import domain
from services.enrolment.models import EnrolmentRow, Outbox, SeenEvent

# The tables themselves, for the batch path's Core statements.
ENROLMENTS = cast(Table, EnrolmentRow.__table__)
SEEN_EVENTS = cast(Table, SeenEvent.__table__)
OUTBOX = cast(Table, Outbox.__table__)
BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass(frozen=True)
class Outcome:
    enrolment: domain.Enrolment | None
    changed: bool


def belgian_today() -> date:
    """Enrolment periods are Belgian calendar days."""
    return datetime.now(BRUSSELS).date()


def _rows_of_pupil(session: Session, pupil_id: str) -> dict[str, EnrolmentRow]:
    """The pupil's enrolments by school, locked: a registration may change several."""
    rows = session.scalars(
        select(EnrolmentRow)
        .where(EnrolmentRow.pupil_id == pupil_id)
        .order_by(EnrolmentRow.id)
        .with_for_update()
    )
    return {row.school_id: row for row in rows}


def _store(session: Session, row: EnrolmentRow | None, new: domain.Enrolment) -> None:
    now = datetime.now(UTC)
    if row is None:
        row = EnrolmentRow(pupil_id=new.pupil_id, school_id=new.school_id)
        session.add(row)
    row.start_date, row.end_date = new.start_date, new.end_date
    row.display_name, row.version, row.updated_at = new.display_name, new.version, now
    row.combination, row.ended_by_school_change = new.combination, new.ended_by_school_change
    add_event(
        session,
        Outbox,
        ENROLMENT_CHANGES,
        enrolment_key(new.pupil_id, new.school_id),
        changed_event(new),
    )
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
    combination: bool = False,
    today: date | None = None,
    school_years_ahead: int = domain.DEFAULT_SCHOOL_YEARS_AHEAD,
) -> Outcome:
    """Register at a school; the pupil's other open enrolments end unless it is a combination."""
    domain.check_horizon(start_date, today or belgian_today(), school_years_ahead)
    rows = _rows_of_pupil(session, pupil_id)
    registration = domain.register_at(
        [row.to_domain() for row in rows.values()],
        pupil_id,
        school_id,
        start_date,
        end_date,
        display_name,
        combination,
    )
    for new in registration.changed:
        _store(session, rows.get(new.school_id), new)
    changed = any(e.school_id == school_id for e in registration.changed)
    return Outcome(registration.enrolment, changed)


def end(session: Session, pupil_id: str, school_id: str, end_date: date) -> Outcome:
    row = _rows_of_pupil(session, pupil_id).get(school_id)
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
            event.combination,
        )
    return end(session, event.pupil_id, event.school_id, event.end_date)


def apply_submissions(
    session: Session,
    events: list[EnrolmentRegistered | EnrolmentEnded],
    today: date | None = None,
    school_years_ahead: int = domain.DEFAULT_SCHOOL_YEARS_AHEAD,
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
    c = ENROLMENTS.c
    ids_of, by_pupil = _load_pupils(session, sorted({e.pupil_id for e in events}))
    today = today or belgian_today()
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
        pupil = by_pupil.setdefault(event.pupil_id, {})
        try:
            result, changes = _decide(pupil, event, today, school_years_ahead)
        except domain.EnrolmentRuleBroken as exc:
            results.append(exc)
            continue
        seen.add(event_id)
        fresh_seen.append({"event_id": event_id, "seen_at": now})
        for new in changes:
            pupil[new.school_id] = dirty[(new.pupil_id, new.school_id)] = new
            outbox.append(_outbox_row(_trusted_changed_event(new, now), now))
        results.append(Outcome(result, any(e.school_id == event.school_id for e in changes)))
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


def _load_pupils(
    session: Session, pupils: list[str]
) -> tuple[dict[tuple[str, str], int], dict[str, dict[str, domain.Enrolment]]]:
    """Row ids by (pupil, school) and each pupil's enrolments by school, locked."""
    c = ENROLMENTS.c
    ids_of: dict[tuple[str, str], int] = {}
    by_pupil: dict[str, dict[str, domain.Enrolment]] = {}
    columns = (c.start_date, c.end_date, c.display_name, c.version)
    flags = (c.combination, c.ended_by_school_change)
    for start in range(0, len(pupils), 500):
        query = (
            select(c.id, c.pupil_id, c.school_id, *columns, *flags)
            .where(c.pupil_id.in_(pupils[start : start + 500]))
            .order_by(c.id)
            .with_for_update()
        )
        for row_id, *fields in session.execute(query):
            enrolment = domain.Enrolment(*fields)
            ids_of[(enrolment.pupil_id, enrolment.school_id)] = row_id
            by_pupil.setdefault(enrolment.pupil_id, {})[enrolment.school_id] = enrolment
    return ids_of, by_pupil


def _decide(
    pupil: dict[str, domain.Enrolment],
    event: EnrolmentRegistered | EnrolmentEnded,
    today: date,
    school_years_ahead: int,
) -> tuple[domain.Enrolment | None, list[domain.Enrolment]]:
    """The enrolment at the event's school afterwards, and every enrolment that changes."""
    if isinstance(event, EnrolmentRegistered):
        domain.check_horizon(event.start_date, today, school_years_ahead)
        registration = domain.register_at(
            list(pupil.values()),
            event.pupil_id,
            event.school_id,
            event.start_date,
            event.end_date,
            event.display_name,
            event.combination,
        )
        return registration.enrolment, registration.changed
    before = pupil.get(event.school_id)
    new = domain.end(before, event.end_date)
    return (new, [new]) if new else (before, [])


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
        "combination": enrolment.combination,
        "ended_by_school_change": enrolment.ended_by_school_change,
        "updated_at": now,
    }


def _outbox_row(event: EnrolmentChanged, now: datetime) -> dict[str, object]:
    return {
        "topic": ENROLMENT_CHANGES.name,
        "key": enrolment_key(event.pupil_id, event.school_id),
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
        key = enrolment_key(row.pupil_id, row.school_id)
        add_event(session, Outbox, ENROLMENT_CHANGES, key, changed_event(row.to_domain()))
        count += 1
    return count
