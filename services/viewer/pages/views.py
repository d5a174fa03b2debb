"""The viewer's pages of recorded views: the school responsible sees who viewed reports
at their school; the pupil or a parent sees who looked at the pupil's report, and which
schools can see it now. Read from the views record and the authorisation cache."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from iris.insz import mask_insz
from iris.ui.dates import brussels_moment
from iris.ui.i18n import N_, gettext_for, language_of
from iris.ui.labels import ROLE_LABELS
from services.viewer import service
from services.viewer.bootstrap import Dependencies
from services.viewer.cache import CacheNotReady
from services.viewer.deps import Deps, PagesDep, StaffPrincipal
from services.viewer.pages.common import page_school, school_names, unavailable
from services.viewer.visibility import who_can_see

router = APIRouter()

CHANNEL_LABELS = {"web": N_("IRIS website"), "embedded": N_("school software")}


def view_rows(request: Request, views: list[service.View], names: dict[str, str]) -> list[Any]:
    _ = gettext_for(request).gettext
    return [
        {
            "pupil": names.get(v.pupil_id) or mask_insz(v.pupil_id),
            "person": v.person_name or mask_insz(v.person_id),
            "role": _(ROLE_LABELS.get(v.role, v.role)),
            "school_id": v.school_id,
            "version": v.version,
            "channel": _(CHANNEL_LABELS.get(v.channel, v.channel)),
            "at": brussels_moment(v.viewed_at, language_of(request)),
        }
        for v in views
    ]


@router.get("/schools/{school_id}/views", response_class=HTMLResponse)
async def school_views_page(
    request: Request, school_id: str, principal: StaffPrincipal, deps: Deps, pages: PagesDep
) -> Response:
    """Who viewed which pupil's report at the school (its responsible only)."""
    page_school(school_id)
    if not principal.is_person or school_id not in principal.school_admin_of:
        raise HTTPException(403, "school_id: you are not the responsible of this school")
    try:
        enrolments, _reports, _held = await deps.cache.school_listing(school_id, None)
    except CacheNotReady:
        return await run_in_threadpool(unavailable, pages, request)
    names = {p: e.display_name for p, e in enrolments.items() if e.display_name}

    views = await run_in_threadpool(
        deps.read, lambda repo: service.views_at_school(repo, school_id)
    )
    return await run_in_threadpool(
        pages.render,
        request,
        "viewer_school_views.html",
        {
            "school_id": school_id,
            "views": view_rows(request, views, names),
            "school_names": await school_names(request, [school_id]),
            "access_url": deps.settings.access_url.rstrip("/"),
        },
    )


async def name_of_pupil(deps: Dependencies, pupil_id: str) -> str | None:
    for school in sorted(await deps.cache.schools_of_pupil(pupil_id)):
        enrolments, _r, _g = await deps.cache.school_listing(school, None)
        enrolment = enrolments.get(pupil_id)
        if enrolment is not None and enrolment.display_name:
            return enrolment.display_name
    return None


async def sight_rows(request: Request, deps: Dependencies, pupil_id: str) -> list[dict[str, Any]]:
    """Which schools can see the pupil's report now, and who at each (masked)."""
    _ = gettext_for(request).gettext
    return [
        {
            "school_id": sight.school_id,
            "since": sight.enrolled_since,
            "people": [
                {
                    "person": mask_insz(h.person_id),
                    "role": _(ROLE_LABELS.get(h.role, h.role)),
                    "since": h.valid_from,
                    "until": h.valid_until,
                }
                for h in sight.people
            ],
        }
        for sight in await who_can_see(deps.cache, pupil_id, deps.clock())
    ]


@router.get("/my/views", response_class=HTMLResponse)
async def my_views_page(
    request: Request, principal: StaffPrincipal, deps: Deps, pages: PagesDep
) -> Response:
    """Who looked at the report of the pupil (yourself, or your children), when, as what."""
    if not principal.is_person:
        raise HTTPException(403, "only the pupil or a parent")
    pupils = sorted(set(principal.parent_of))

    def read(pupil_id: str) -> list[service.View]:
        return deps.read(lambda repo: service.views_of(repo, pupil_id))

    own = await run_in_threadpool(read, principal.subject)
    sections: list[dict[str, Any]] = []
    try:
        if own or not pupils:
            sections.append(
                {"pupil_id": principal.subject, "name": None, "own": True, "views": own}
            )
        for pupil_id in pupils:
            sections.append(
                {
                    "pupil_id": pupil_id,
                    "name": await name_of_pupil(deps, pupil_id),
                    "own": False,
                    "views": await run_in_threadpool(read, pupil_id),
                }
            )
    except CacheNotReady:
        return await run_in_threadpool(unavailable, pages, request)
    try:
        for section in sections:
            section["masked"] = mask_insz(str(section["pupil_id"]))
            section["views"] = view_rows(request, section["views"], {})
            section["sights"] = await sight_rows(request, deps, str(section["pupil_id"]))
    except CacheNotReady:
        return await run_in_threadpool(unavailable, pages, request)
    schools = sorted(
        {sight["school_id"] for section in sections for sight in section["sights"]}
        | {view["school_id"] for section in sections for view in section["views"]}
    )
    names = await school_names(request, schools)
    return await run_in_threadpool(
        pages.render,
        request,
        "viewer_my_views.html",
        {"sections": sections, "school_names": names},
    )
