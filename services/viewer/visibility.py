"""Who can see a pupil's report now, for the pupil and the parents.

Enrolment is the school's word: any school can register any pupil and then grant
itself access. That cannot be prevented by a check on the school's token, so it is
made visible to the people it concerns: every school where the pupil is enrolled today
and has a current report, since when, and who there holds a grant that covers the pupil
today (role, period). Read from the authorisation cache, like every check.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.viewer.cache import AuthCache, decode_grant, school_key


@dataclass(frozen=True)
class Holder:
    person_id: str
    role: str
    valid_from: str
    valid_until: str


@dataclass(frozen=True)
class SchoolSight:
    school_id: str
    enrolled_since: str
    enrolled_until: str | None
    people: list[Holder]
    clb_id: str  # the CLB that issued the current report


async def who_can_see(cache: AuthCache, pupil_id: str, today: str) -> list[SchoolSight]:
    """The schools that can see the pupil's current report today, and who at each.
    Raises CacheNotReady when the cache is not ready."""
    sights = []
    for school in sorted(await cache.schools_of_pupil(pupil_id)):
        enrolments, reports, _held = await cache.school_listing(school, None)
        enrolment, state = enrolments.get(pupil_id), reports.get(pupil_id)
        if enrolment is None or not enrolment.active_on(today):
            continue
        current = state.current(today) if state is not None else None
        if current is None:
            continue
        people = []
        for person, raw in (await cache.client.hgetall(school_key(school, "grant"))).items():
            grant = decode_grant(raw)
            if grant.active_on(today) and grant.covers(pupil_id):
                who = person.decode() if isinstance(person, bytes) else str(person)
                people.append(Holder(who, grant.role, grant.valid_from, grant.valid_until))
        people.sort(key=lambda h: (h.role, h.valid_from, h.person_id))
        sights.append(
            SchoolSight(school, enrolment.start_date, enrolment.end_date, people, current.clb_id)
        )
    return sights
