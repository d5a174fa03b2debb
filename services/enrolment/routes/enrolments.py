"""School software registers and ends enrolments at its own school, and reads them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from iris.insz import INSZ
from iris.web import CurrentPrincipal
from services.enrolment import domain, service
from services.enrolment.deps import Deps, school_of_client
from services.enrolment.schemas import EnrolmentEndIn, EnrolmentIn, EnrolmentOut

router = APIRouter()


def answer_of(enrolment: domain.Enrolment | None, changed: bool) -> EnrolmentOut:
    assert enrolment is not None
    return EnrolmentOut.model_validate({**vars(enrolment), "changed": changed})


@router.post("/v1/enrolments", response_model=EnrolmentOut)
def register_enrolment(body: EnrolmentIn, principal: CurrentPrincipal, deps: Deps) -> EnrolmentOut:
    """Register (or restate) a pupil's enrolment at the caller's school.

    Unless `combination` is true, the pupil's enrolments at other schools end the
    day before `start_date`; a start too far ahead is refused (422, `start_date`).
    """
    if school_of_client(principal) != body.school_id:
        raise HTTPException(403, "school_id: a client may only register at its own school")
    outcome = deps.write(
        lambda repo: service.register(
            repo,
            domain.stated_in(body),
            deps.clock(),
            deps.settings.enrolment_school_years_ahead,
        )
    )
    return answer_of(outcome.enrolment, outcome.changed)


@router.post("/v1/enrolments/end", response_model=EnrolmentOut)
def end_enrolment(body: EnrolmentEndIn, principal: CurrentPrincipal, deps: Deps) -> EnrolmentOut:
    """End a pupil's enrolment at the caller's school on `end_date`."""
    if school_of_client(principal) != body.school_id:
        raise HTTPException(403, "school_id: a client may only end enrolments at its own school")
    outcome = deps.write(
        lambda repo: service.end(repo, body.pupil_id, body.school_id, body.end_date)
    )
    return answer_of(outcome.enrolment, outcome.changed)


@router.get("/v1/pupils/{pupil_id}/enrolments", response_model=list[EnrolmentOut])
def list_enrolments(
    pupil_id: Annotated[INSZ, Path()], principal: CurrentPrincipal, deps: Deps
) -> list[EnrolmentOut]:
    """The pupil's enrolments at the caller's school (other schools stay private)."""
    school_id = school_of_client(principal)
    found = deps.read(lambda repo: repo.enrolments_of(pupil_id, school_id))
    return [answer_of(e, False) for e in found]
