"""The enrolment register in memory: the same port as the SQLAlchemy adapter, for tests
of the use cases that need no database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from iris.contracts import EnrolmentChanged, Rejected
from services.enrolment import domain
from services.enrolment.repository import EnrolmentRepository, trusted_changed_event


class FakeEnrolmentRepository(EnrolmentRepository):
    def __init__(self) -> None:
        self.enrolments: dict[tuple[str, str], domain.Enrolment] = {}  # in registration order
        self.seen_ids: set[str] = set()
        self.changes: list[EnrolmentChanged] = []
        self.rejected: list[tuple[str, Rejected]] = []

    def seen(self, event_ids: list[str]) -> set[str]:
        return self.seen_ids.intersection(event_ids)

    def lock_pupils(self, pupil_ids: list[str]) -> dict[str, dict[str, domain.Enrolment]]:
        found: dict[str, dict[str, domain.Enrolment]] = {}
        for (pupil, school), enrolment in self.enrolments.items():
            if pupil in pupil_ids:
                found.setdefault(pupil, {})[school] = enrolment
        return found

    def save(self, changes: list[domain.Enrolment], seen: list[str], now: datetime) -> None:
        self.seen_ids.update(seen)
        for enrolment in changes:
            self.enrolments[(enrolment.pupil_id, enrolment.school_id)] = enrolment
            self.changes.append(trusted_changed_event(enrolment, now))

    def reject(self, key: str, rejection: Rejected) -> None:
        self.rejected.append((key, rejection))

    def enrolments_of(self, pupil_id: str, school_id: str | None = None) -> list[domain.Enrolment]:
        mine = [
            e
            for (pupil, school), e in self.enrolments.items()
            if pupil == pupil_id and school_id in (None, school)
        ]
        return sorted(mine, key=lambda e: e.start_date)

    def every_enrolment(self) -> Iterable[domain.Enrolment]:
        return list(self.enrolments.values())

    def publish(self, event: EnrolmentChanged) -> None:
        self.changes.append(event)
