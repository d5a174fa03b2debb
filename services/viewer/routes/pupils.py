"""Which pupils enrolled at a school have a current report (no content): for granted
staff and for the school's own software."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from iris.insz import InstitutionNumber
from iris.web import CurrentPrincipal
from services.viewer import domain
from services.viewer.cache import CacheNotReady
from services.viewer.deps import Deps

log = logging.getLogger(__name__)
router = APIRouter()


class ReportFlag(BaseModel):
    pupil_id: str
    display_name: str | None
    kind: str
    version: int
    valid_from: date


class PupilsWithReport(BaseModel):
    school_id: str
    pupils: list[ReportFlag]


@router.get("/v1/schools/{school_id}/pupils-with-report", response_model=PupilsWithReport)
async def list_pupils_with_report(
    school_id: Annotated[InstitutionNumber, Path()], principal: CurrentPrincipal, deps: Deps
) -> PupilsWithReport:
    """The pupils enrolled at the school today who have a current report (no content)."""
    whole_school = principal.school_client_of is not None
    if whole_school and principal.school_client_of != school_id:
        raise HTTPException(403, "school_id: a client may only list its own school")
    if not whole_school and not principal.is_person:
        raise HTTPException(403, "only granted staff or the school's software may list")
    try:
        enrolments, reports, held = await deps.cache.school_listing(
            school_id, None if whole_school else principal.subject
        )
    except CacheNotReady as exc:
        raise HTTPException(503, str(exc)) from exc
    except Exception as exc:
        log.warning("listing refused, cache unavailable", extra={"error": repr(exc)})
        raise HTTPException(503, "authorisation cache unavailable") from exc
    day = deps.clock()
    if not whole_school and (held is None or not held.active_on(day)):
        raise HTTPException(403, "no active grant at this school")
    pupils = domain.pupils_with_report(day, enrolments, reports, held, whole_school)
    return PupilsWithReport(
        school_id=school_id,
        pupils=[
            ReportFlag(
                pupil_id=p.pupil_id,
                display_name=p.display_name,
                kind=p.report.kind,
                version=p.report.version,
                valid_from=date.fromisoformat(p.report.valid_from),
            )
            for p in pupils
        ],
    )
