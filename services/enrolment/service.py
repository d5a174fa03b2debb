"""Use cases of the register: each runs in one transaction of an `EnrolmentRepository`
and queues the canonical change when, and only when, something changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from iris.contracts import EnrolmentEnded, EnrolmentRegistered, Rejected
from services.enrolment import domain
from services.enrolment.repository import EnrolmentRepository, trusted_changed_event

BRUSSELS = ZoneInfo("Europe/Brussels")


@dataclass(frozen=True)
class Outcome:
    enrolment: domain.Enrolment | None
    changed: bool


def belgian_today() -> date:
    """Enrolment periods are Belgian calendar days."""
    return datetime.now(BRUSSELS).date()


def register(
    repo: EnrolmentRepository,
    stated: domain.Statement,
    today: date,
    school_years_ahead: int = domain.DEFAULT_SCHOOL_YEARS_AHEAD,
) -> Outcome:
    """Register at a school; the pupil's other open enrolments end unless it is a combination."""
    domain.check_horizon(stated.start_date, today, school_years_ahead)
    held = repo.lock_pupils([stated.pupil_id]).get(stated.pupil_id, {})
    registration = domain.register_at(list(held.values()), stated)
    repo.save(registration.changed, [], datetime.now(UTC))
    changed = any(e.school_id == stated.school_id for e in registration.changed)
    return Outcome(registration.enrolment, changed)


def end(repo: EnrolmentRepository, pupil_id: str, school_id: str, end_date: date) -> Outcome:
    """End the pupil's enrolment at a school (ending it again changes nothing)."""
    current = repo.lock_pupils([pupil_id]).get(pupil_id, {}).get(school_id)
    new = domain.end(current, end_date)
    if new is None:
        return Outcome(current, False)
    repo.save([new], [], datetime.now(UTC))
    return Outcome(new, True)


def _decide(
    pupil: dict[str, domain.Enrolment],
    event: EnrolmentRegistered | EnrolmentEnded,
    today: date,
    school_years_ahead: int,
) -> tuple[domain.Enrolment | None, list[domain.Enrolment]]:
    """The enrolment at the event's school afterwards, and every enrolment that changes."""
    if isinstance(event, EnrolmentRegistered):
        domain.check_horizon(event.start_date, today, school_years_ahead)
        registration = domain.register_at(list(pupil.values()), domain.stated_in(event))
        return registration.enrolment, registration.changed
    before = pupil.get(event.school_id)
    new = domain.end(before, event.end_date)
    return (new, [new]) if new else (before, [])


def apply_submissions(
    repo: EnrolmentRepository,
    events: list[EnrolmentRegistered | EnrolmentEnded],
    today: date | None = None,
    school_years_ahead: int = domain.DEFAULT_SCHOOL_YEARS_AHEAD,
) -> list[Outcome | domain.EnrolmentRuleBroken]:
    """Apply a batch of submissions from the topic in one transaction, in order: one read
    of the event ids already seen, one (locking) read of the pupils' enrolments, one write.
    A redelivered event id changes nothing; a broken rule marks only its event."""
    seen = repo.seen(list(dict.fromkeys(str(e.event_id) for e in events)))
    by_pupil = repo.lock_pupils(sorted({e.pupil_id for e in events}))
    today = today or belgian_today()
    results: list[Outcome | domain.EnrolmentRuleBroken] = []
    fresh_seen: list[str] = []
    changes: list[domain.Enrolment] = []
    for event in events:
        event_id = str(event.event_id)
        if event_id in seen:
            results.append(Outcome(None, False))
            continue
        pupil = by_pupil.setdefault(event.pupil_id, {})
        try:
            result, changed = _decide(pupil, event, today, school_years_ahead)
        except domain.EnrolmentRuleBroken as exc:
            results.append(exc)
            continue
        seen.add(event_id)
        fresh_seen.append(event_id)
        for new in changed:
            pupil[new.school_id] = new
        changes.extend(changed)
        results.append(Outcome(result, any(e.school_id == event.school_id for e in changed)))
    repo.save(changes, fresh_seen, datetime.now(UTC))
    return results


def reject(
    repo: EnrolmentRepository,
    key: str | None,
    original: bytes | None,
    reason: str,
    topic: str,
    partition: int,
    offset: int,
) -> None:
    text = (original or b"").decode("utf-8", errors="replace")
    rejection = Rejected(
        original=text, reason=reason, topic=topic, partition=partition, offset=offset
    )
    repo.reject(key or "", rejection)


def republish(repo: EnrolmentRepository) -> int:
    """Queue the current state of every enrolment again (after the topics were lost)."""
    count = 0
    now = datetime.now(UTC)
    for enrolment in repo.every_enrolment():
        repo.publish(trusted_changed_event(enrolment, now))
        count += 1
    return count
