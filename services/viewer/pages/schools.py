"""The viewer's pages for staff: where a person starts, which of their schools, and the
pupils of a school who have a current report that they may see. Read from the
authorisation cache, like every check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from iris.auth import Principal
from iris.insz import mask_insz
from iris.ui.i18n import gettext_for
from iris.ui.labels import KIND_LABELS, ROLE_LABELS
from services.viewer import domain
from services.viewer.bootstrap import Dependencies
from services.viewer.cache import CacheNotReady
from services.viewer.deps import Deps, PagesDep, StaffPrincipal
from services.viewer.pages.common import page_school, school_names, unavailable

router = APIRouter()


async def granted_schools(deps: Dependencies, principal: Principal) -> list[str]:
    """The schools where the person holds a grant that is active today."""
    if not principal.is_person:
        return []
    day = deps.clock()
    found = []
    for school in sorted(await deps.cache.schools_of_person(principal.subject)):
        _e, _r, held = await deps.cache.school_listing(school, principal.subject)
        if held is not None and held.active_on(day):
            found.append(school)
    return found


async def granted_schools_now(principal: StaffPrincipal, deps: Deps) -> list[str]:
    """`granted_schools`; while the cache cannot say, CacheNotReady answers the page with
    the shared 503 page (`common.cache_not_ready`)."""
    return await granted_schools(deps, principal)


GrantedSchools = Annotated[list[str], Depends(granted_schools_now)]


@router.get("/", response_class=HTMLResponse)
async def home(
    request: Request,
    principal: StaffPrincipal,
    deps: Deps,
    pages: PagesDep,
    schools: GrantedSchools,
) -> Response:
    """Where a person starts: their schools, and the views of their children's reports."""
    return await run_in_threadpool(
        pages.render,
        request,
        "viewer_home.html",
        {
            "schools": schools,
            "school_names": await school_names(
                request, schools + sorted(principal.school_admin_of)
            ),
            "responsible_of": sorted(principal.school_admin_of),
            "parent_of": bool(principal.parent_of),
            "access_url": deps.settings.access_url.rstrip("/"),
        },
    )


@router.get("/schools", response_class=HTMLResponse)
async def schools_page(
    request: Request, deps: Deps, pages: PagesDep, schools: GrantedSchools
) -> Response:
    """Pick a school when granted at several; straight on when there is one (the grants
    are the signed-in person's: `GrantedSchools` asks for them)."""
    if len(schools) == 1:
        return RedirectResponse(f"/schools/{schools[0]}/pupils", status_code=303)
    return await run_in_threadpool(
        pages.render,
        request,
        "viewer_schools.html",
        {
            "schools": schools,
            "school_names": await school_names(request, schools),
            "access_url": deps.settings.access_url.rstrip("/"),
        },
    )


@router.get("/schools/{school_id}/pupils", response_class=HTMLResponse)
async def pupils_page(
    request: Request,
    school_id: str,
    principal: StaffPrincipal,
    deps: Deps,
    pages: PagesDep,
    q: str = "",
) -> Response:
    """The school's pupils with a current report that this person may see."""
    page_school(school_id)
    if not principal.is_person:
        raise HTTPException(403, "only granted staff")
    try:
        enrolments, reports, held = await deps.cache.school_listing(school_id, principal.subject)
    except CacheNotReady:
        return await run_in_threadpool(unavailable, pages, request)
    day = deps.clock()
    if held is None or not held.active_on(day):
        raise HTTPException(403, "no active grant at this school")
    found = domain.pupils_with_report(day, enrolments, reports, held, False)
    query = q.strip()[:100]
    if query:
        words = query.casefold().split()
        found = [p for p in found if all(w in (p.display_name or "").casefold() for w in words)]
    _ = gettext_for(request).gettext
    pupils = [
        {
            "pupil_id": p.pupil_id,
            "name": p.display_name or mask_insz(p.pupil_id),
            "kind": _(KIND_LABELS.get(p.report.kind, KIND_LABELS["V"])),
            "since": p.report.valid_from,
        }
        for p in sorted(found, key=lambda p: ((p.display_name or "").casefold(), p.pupil_id))
    ]
    return await run_in_threadpool(
        pages.render,
        request,
        "viewer_pupils.html",
        {
            "school_id": school_id,
            "school_names": await school_names(request, [school_id]),
            "pupils": pupils,
            "q": query,
            "role": _(ROLE_LABELS.get(held.role, held.role)),
        },
    )
