"""Who viewed a pupil's report: for the pupil, a parent, or the school responsible."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from iris.insz import INSZ
from iris.web import CurrentPrincipal
from services.viewer import service
from services.viewer.cache import CacheNotReady
from services.viewer.deps import Deps
from services.viewer.repository import Viewing

router = APIRouter()


# the answer's schema keeps its own name; no docstring, which would become its description
class ViewOut(Viewing):
    pass


@router.get("/v1/pupils/{pupil_id}/views", response_model=list[ViewOut])
async def list_views(
    pupil_id: Annotated[INSZ, Path()], principal: CurrentPrincipal, deps: Deps
) -> list[ViewOut]:
    """Who viewed the pupil's report: for the pupil, a parent, or a school responsible
    of a school where the pupil is or was enrolled (that school's views only)."""
    schools: set[str] | None = None
    if not principal.is_person:
        raise HTTPException(403, "only the pupil, a parent or the school responsible")
    if principal.subject != pupil_id and pupil_id not in principal.parent_of:
        try:
            enrolled_at = await deps.cache.schools_of_pupil(pupil_id)
        except CacheNotReady as exc:
            raise HTTPException(503, str(exc)) from exc
        except Exception as exc:
            raise HTTPException(503, "authorisation cache unavailable") from exc
        schools = enrolled_at & set(principal.school_admin_of)
        if not schools:
            raise HTTPException(403, "only the pupil, a parent or the school responsible")

    views = await asyncio.to_thread(
        deps.read, lambda repo: service.views_of(repo, pupil_id, schools)
    )
    return [
        ViewOut.model_validate(v.model_dump() | {"viewed_at": v.viewed_at.astimezone(UTC)})
        for v in views
    ]
