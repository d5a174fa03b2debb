"""CLB staff find a pupil by name among the pupils of the schools their CLB serves
(the register of schools names each school's CLB; the names are those the schools
registered, from the access service's copy of the enrolment register)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel

from iris.insz import INSZ, InstitutionNumber
from iris.web import CurrentPrincipal, DbSession
from services.access import enrolments
from services.access.deps import Today

router = APIRouter(tags=["CLB"])


class PupilOfClbOut(BaseModel):
    pupil_id: str
    display_name: str
    school_id: str
    school_name: str


def require_staff_of(principal: CurrentPrincipal, clb_id: str) -> None:
    if not principal.is_person or clb_id not in principal.clb_staff_of:
        raise HTTPException(403, "clb_id: you are not staff of this CLB")


@router.get("/v1/clbs/{clb_id}/pupils", response_model=list[PupilOfClbOut])
def find_pupils_of_clb(
    clb_id: Annotated[InstitutionNumber, Path()],
    name: Annotated[str, Query(min_length=2, max_length=100)],
    principal: CurrentPrincipal,
    session: DbSession,
    today: Today,
) -> list[PupilOfClbOut]:
    """Pupils enrolled at the CLB's schools whose registered name holds every word of `name`."""
    require_staff_of(principal, clb_id)
    return [
        PupilOfClbOut(**vars(found))
        for found in enrolments.pupils_of_clb(session, clb_id, name, today)
    ]


@router.get("/v1/clbs/{clb_id}/pupils/{pupil_id}", response_model=list[PupilOfClbOut])
def find_pupil_of_clb(
    clb_id: Annotated[InstitutionNumber, Path()],
    pupil_id: Annotated[INSZ, Path()],
    principal: CurrentPrincipal,
    session: DbSession,
    today: Today,
) -> list[PupilOfClbOut]:
    """Where the CLB's schools registered this pupil (enrolment not ended), with the name
    each school registered; empty when none did."""
    require_staff_of(principal, clb_id)
    return [
        PupilOfClbOut(**vars(found))
        for found in enrolments.pupil_at_clb(session, clb_id, pupil_id, today)
    ]
