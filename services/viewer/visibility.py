"""Who can see a pupil's report now, for the pupil and the parents.

Enrolment is the school's word: any school can register any pupil and then grant
itself access. That cannot be prevented by a check on the school's token, so it is
made visible to the people it concerns: every school where the pupil is enrolled today
and has a current report, since when, and who there holds a grant that covers the pupil
today (role, period). Read from the authorisation cache, like every check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel

from iris.insz import INSZ
from iris.web import CurrentPrincipal
from services.viewer.cache import AuthCache, CacheNotReady, decode_grant, school_key

log = logging.getLogger(__name__)
router = APIRouter()


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


class HolderOut(BaseModel):
    person_id: str
    role: str
    valid_from: date
    valid_until: date


class SchoolSightOut(BaseModel):
    school_id: str
    enrolled_since: date
    enrolled_until: date | None
    people: list[HolderOut]


def sight_out(sight: SchoolSight) -> SchoolSightOut:
    until = sight.enrolled_until
    return SchoolSightOut(
        school_id=sight.school_id,
        enrolled_since=date.fromisoformat(sight.enrolled_since),
        enrolled_until=date.fromisoformat(until) if until else None,
        people=[
            HolderOut(
                person_id=h.person_id,
                role=h.role,
                valid_from=date.fromisoformat(h.valid_from),
                valid_until=date.fromisoformat(h.valid_until),
            )
            for h in sight.people
        ],
    )


@router.get("/v1/pupils/{pupil_id}/visibility", response_model=list[SchoolSightOut])
async def list_visibility(
    request: Request, pupil_id: Annotated[INSZ, Path()], principal: CurrentPrincipal
) -> list[SchoolSightOut]:
    """Which schools can see the pupil's current report today, since when, and who at
    each (grants covering the pupil): for the pupil, a parent, and the staff of the CLB
    that issued the report."""
    if not principal.is_person:
        raise HTTPException(403, "only the pupil, a parent or the report's CLB")
    try:
        sights = await who_can_see(request.app.state.cache, pupil_id, request.app.state.clock())
    except CacheNotReady as exc:
        raise HTTPException(503, str(exc)) from exc
    except Exception as exc:
        log.warning("visibility refused, cache unavailable", exc_info=True)
        raise HTTPException(503, "authorisation cache unavailable") from exc
    family = principal.subject == pupil_id or pupil_id in principal.parent_of
    if not family and not principal.clb_staff_of & {s.clb_id for s in sights}:
        raise HTTPException(403, "only the pupil, a parent or the report's CLB")
    return [sight_out(s) for s in sights]
