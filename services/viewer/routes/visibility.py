"""Which schools can see a pupil's current report today, and who at each
(`services/viewer/visibility.py`): for the pupil, a parent, and the report's CLB."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from iris.insz import INSZ
from iris.web import CurrentPrincipal
from services.viewer.cache import CacheNotReady
from services.viewer.deps import Deps
from services.viewer.visibility import who_can_see

log = logging.getLogger(__name__)
router = APIRouter()


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


@router.get("/v1/pupils/{pupil_id}/visibility", response_model=list[SchoolSightOut])
async def list_visibility(
    pupil_id: Annotated[INSZ, Path()], principal: CurrentPrincipal, deps: Deps
) -> list[SchoolSightOut]:
    """Which schools can see the pupil's current report today, since when, and who at
    each (grants covering the pupil): for the pupil, a parent, and the staff of the CLB
    that issued the report."""
    if not principal.is_person:
        raise HTTPException(403, "only the pupil, a parent or the report's CLB")
    try:
        sights = await who_can_see(deps.cache, pupil_id, deps.clock())
    except CacheNotReady as exc:
        raise HTTPException(503, str(exc)) from exc
    except Exception as exc:
        log.warning("visibility refused, cache unavailable", exc_info=True)
        raise HTTPException(503, "authorisation cache unavailable") from exc
    family = principal.subject == pupil_id or pupil_id in principal.parent_of
    if not family and not principal.clb_staff_of & {s.clb_id for s in sights}:
        raise HTTPException(403, "only the pupil, a parent or the report's CLB")
    return [SchoolSightOut.model_validate(s, from_attributes=True) for s in sights]
