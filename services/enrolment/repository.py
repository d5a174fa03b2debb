"""The enrolment register's storage port, and its SQLAlchemy adapter.

The use cases (`service.py`) run against `EnrolmentRepository`; `SqlEnrolmentRepository`
keeps the register in the service's database inside the caller's transaction, with a
few statements per batch (the worker applies thousands of submissions a second), and
queues the events in the same transaction's outbox; tests/enrolment/fakes.py keeps it
in memory."""

from __future__ import annotations

import dataclasses
import random
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import cast

import orjson
from sqlalchemy import Table, and_, bindparam, select, update
from sqlalchemy.orm import Session

from iris.bulk import insert_rows
from iris.contracts import (
    ENROLMENT_CHANGES,
    ENROLMENT_REJECTED,
    EnrolmentChanged,
    Rejected,
    enrolment_key,
)
from iris.outbox import add_event
from services.enrolment import domain
from services.enrolment.models import EnrolmentRow, Outbox, SeenEvent

# The tables themselves, for the Core statements.
ENROLMENTS = cast(Table, EnrolmentRow.__table__)
SEEN_EVENTS = cast(Table, SeenEvent.__table__)
OUTBOX = cast(Table, Outbox.__table__)
CHUNK = 500  # ids per IN (...) list


class EnrolmentRepository(ABC):
    """One transaction's view of the register."""

    @abstractmethod
    def seen(self, event_ids: list[str]) -> set[str]:
        """Which of these submissions' event ids were applied before."""

    @abstractmethod
    def lock_pupils(self, pupil_ids: list[str]) -> dict[str, dict[str, domain.Enrolment]]:
        """Each pupil's enrolments by school (in registration order), held until the
        transaction ends: a registration may change several."""

    @abstractmethod
    def save(self, changes: list[domain.Enrolment], seen: list[str], now: datetime) -> None:
        """Keep the changed enrolments of locked pupils (the last change of each wins),
        queue an `EnrolmentChanged` for every change, and remember the event ids seen."""

    @abstractmethod
    def reject(self, key: str, rejection: Rejected) -> None:
        """Queue a refused submission on `iris.enrolment.rejected`."""

    @abstractmethod
    def enrolments_of(self, pupil_id: str, school_id: str | None = None) -> list[domain.Enrolment]:
        """The pupil's enrolments (at one school), by start date."""

    @abstractmethod
    def every_enrolment(self) -> Iterable[domain.Enrolment]: ...

    @abstractmethod
    def publish(self, event: EnrolmentChanged) -> None:
        """Queue a change on `iris.enrolment.changes` (as it stands: for republishing)."""


_ids = random.Random()  # seeded from the system's randomness once per process


def _fresh_id() -> uuid.UUID:
    """A version-4 event id without a system call per event (ids need only be unique)."""
    return uuid.UUID(int=_ids.getrandbits(128), version=4)


# what the register keeps of an enrolment, and what of it its change event carries
_FACTS = tuple(f.name for f in dataclasses.fields(domain.Enrolment))
_EVENT_FACTS = tuple(name for name in _FACTS if name in EnrolmentChanged.model_fields)


def trusted_changed_event(enrolment: domain.Enrolment, now: datetime) -> EnrolmentChanged:
    """The change event, without validating again what the register already holds valid."""
    facts = {name: getattr(enrolment, name) for name in _EVENT_FACTS}
    return EnrolmentChanged.model_construct(event_id=_fresh_id(), occurred_at=now, **facts)


def _row_values(enrolment: domain.Enrolment, now: datetime) -> dict[str, object]:
    return {**{name: getattr(enrolment, name) for name in _FACTS}, "updated_at": now}


ROW_COLUMNS = (*_FACTS, "updated_at")
OUTBOX_COLUMNS = ("topic", "key", "event_type", "event_id", "payload", "created_at")
_CHANGED = EnrolmentChanged.model_fields["type"].default
_EVENT_FIELDS = tuple(EnrolmentChanged.model_fields)


def changed_payload(enrolment: domain.Enrolment, event_id: uuid.UUID, now: datetime) -> str:
    """`trusted_changed_event(...).model_dump_json()`, written directly: the same JSON
    (the register's facts are already valid), at a fraction of a model's cost."""
    values = {name: getattr(enrolment, name) for name in _EVENT_FACTS}
    values |= {"schema_version": 1, "event_id": event_id, "occurred_at": now, "type": _CHANGED}
    event = {name: values[name] for name in _EVENT_FIELDS}  # in the model's order
    return orjson.dumps(event, option=orjson.OPT_UTC_Z).decode()


def _outbox_row(enrolment: domain.Enrolment, now: datetime) -> tuple[object, ...]:
    event_id = _fresh_id()
    return (
        ENROLMENT_CHANGES.name,
        enrolment_key(enrolment.pupil_id, enrolment.school_id),
        _CHANGED,
        str(event_id),
        changed_payload(enrolment, event_id, now),
        now,
    )


class SqlEnrolmentRepository(EnrolmentRepository):
    """Core statements on the session's connection: plain executemany, no ORM bookkeeping."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._stored: set[tuple[str, str]] = set()  # (pupil, school) rows that exist

    def seen(self, event_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(event_ids), CHUNK):
            chunk = event_ids[start : start + CHUNK]
            found.update(
                self.session.scalars(
                    select(SeenEvent.event_id).where(SeenEvent.event_id.in_(chunk))
                )
            )
        return found

    def lock_pupils(self, pupil_ids: list[str]) -> dict[str, dict[str, domain.Enrolment]]:
        c = ENROLMENTS.c
        columns = (c.pupil_id, c.school_id, c.start_date, c.end_date, c.display_name, c.version)
        flags = (c.combination, c.ended_by_school_change)
        by_pupil: dict[str, dict[str, domain.Enrolment]] = {}
        for start in range(0, len(pupil_ids), CHUNK):
            query = (
                select(*columns, *flags)
                .where(c.pupil_id.in_(pupil_ids[start : start + CHUNK]))
                .order_by(c.id)
                .with_for_update()
            )
            for fields in self.session.execute(query):
                enrolment = domain.Enrolment(*fields)
                self._stored.add((enrolment.pupil_id, enrolment.school_id))
                by_pupil.setdefault(enrolment.pupil_id, {})[enrolment.school_id] = enrolment
        return by_pupil

    def save(self, changes: list[domain.Enrolment], seen: list[str], now: datetime) -> None:
        connection = self.session.connection()
        insert_rows(connection, SEEN_EVENTS, ("event_id", "seen_at"), [(e, now) for e in seen])
        last = {(e.pupil_id, e.school_id): e for e in changes}
        fresh = [e for pair, e in last.items() if pair not in self._stored]
        inserts = [(*(getattr(e, name) for name in _FACTS), now) for e in fresh]
        insert_rows(connection, ENROLMENTS, ROW_COLUMNS, inserts)
        updates = [
            {"key_pupil": pair[0], "key_school": pair[1], **_row_values(e, now)}
            for pair, e in last.items()
            if pair in self._stored
        ]
        if updates:
            c = ENROLMENTS.c
            connection.execute(
                update(ENROLMENTS).where(
                    and_(
                        c.pupil_id == bindparam("key_pupil"), c.school_id == bindparam("key_school")
                    )
                ),
                updates,
            )
        self._stored.update(last)
        insert_rows(connection, OUTBOX, OUTBOX_COLUMNS, [_outbox_row(e, now) for e in changes])

    def reject(self, key: str, rejection: Rejected) -> None:
        add_event(self.session, Outbox, ENROLMENT_REJECTED, key, rejection)

    def enrolments_of(self, pupil_id: str, school_id: str | None = None) -> list[domain.Enrolment]:
        query = select(EnrolmentRow).where(EnrolmentRow.pupil_id == pupil_id)
        if school_id is not None:
            query = query.where(EnrolmentRow.school_id == school_id)
        rows = self.session.scalars(query.order_by(EnrolmentRow.start_date))
        return [row.to_domain() for row in rows]

    def every_enrolment(self) -> Iterable[domain.Enrolment]:
        rows = self.session.scalars(select(EnrolmentRow).order_by(EnrolmentRow.id))
        return (row.to_domain() for row in rows)

    def publish(self, event: EnrolmentChanged) -> None:
        key = enrolment_key(event.pupil_id, event.school_id)
        add_event(self.session, Outbox, ENROLMENT_CHANGES, key, event)
