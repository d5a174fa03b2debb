"""The viewer's pages for people: staff find the pupils of their school who have a
current report; the school responsible sees who viewed reports at their school; the
pupil or a parent sees who looked at the pupil's report.

Everything is read from the viewer's own data: the authorisation cache in Redis
(which pupils, which reports, whose grants) and the table of recorded views.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from iris.auth import Principal
from iris.insz import mask_insz
from iris.ui.i18n import N_, gettext_for
from iris.ui.labels import KIND_LABELS, ROLE_LABELS
from iris.ui.pages import Pages, wants_html
from iris.ui.session import (
    api_or_session_principal,
    optional_principal,
    page_principal,
    principal_known,
)
from services.viewer import domain, service
from services.viewer.cache import AuthCache, CacheNotReady
from services.viewer.visibility import who_can_see

BRUSSELS = ZoneInfo("Europe/Brussels")
SCHOOL_ID = re.compile(r"^\d{1,12}$")

CHANNEL_LABELS = {"web": N_("IRIS website"), "embedded": N_("school software")}


async def staff_principal(request: Request) -> Principal:
    """A browser without a session is sent to sign in; an API caller gets 401."""
    if not principal_known(request):
        # a token not verified lately: verify it in a worker thread (keys may be fetched)
        await run_in_threadpool(optional_principal, request)
    if wants_html(request):
        return page_principal(request)
    return api_or_session_principal(request)


StaffPrincipal = Annotated[Principal, Depends(staff_principal)]


def local_time(value: Any) -> str:
    at = value if value.tzinfo else value.replace(tzinfo=UTC)
    return str(at.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M"))


def install_viewer_pages(
    app: FastAPI,
    pages: Pages,
    sessions: sessionmaker[Session],
    cache: AuthCache,
    clock: Callable[[], str],
    access_url: str,
) -> None:
    def unavailable(request: Request) -> HTMLResponse:
        _ = gettext_for(request).gettext
        return pages.render(
            request,
            "error.html",
            {
                "title": _("Not available for a moment"),
                "message": _("Please try again later."),
            },
            status_code=503,
        )

    def page_school(school_id: str) -> str:
        if not SCHOOL_ID.match(school_id):
            raise HTTPException(404, "school_id: no such school")
        return school_id

    async def granted_schools(principal: Principal) -> list[str]:
        """The schools where the person holds a grant that is active today."""
        day = clock()
        found = []
        for school in sorted(await cache.schools_of_person(principal.subject)):
            _e, _r, held = await cache.school_listing(school, principal.subject)
            if held is not None and held.active_on(day):
                found.append(school)
        return found

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request, principal: StaffPrincipal) -> Response:
        """Where a person starts: their schools, and the views of their children's reports."""
        try:
            schools = await granted_schools(principal) if principal.is_person else []
        except CacheNotReady:
            return await run_in_threadpool(unavailable, request)
        return await run_in_threadpool(
            pages.render,
            request,
            "viewer_home.html",
            {
                "schools": schools,
                "responsible_of": sorted(principal.school_admin_of),
                "parent_of": bool(principal.parent_of),
                "access_url": access_url.rstrip("/"),
            },
        )

    @app.get("/schools", response_class=HTMLResponse)
    async def schools_page(request: Request, principal: StaffPrincipal) -> Response:
        """Pick a school when granted at several; straight on when there is one."""
        try:
            schools = await granted_schools(principal) if principal.is_person else []
        except CacheNotReady:
            return await run_in_threadpool(unavailable, request)
        if len(schools) == 1:
            return RedirectResponse(f"/schools/{schools[0]}/pupils", status_code=303)
        return await run_in_threadpool(
            pages.render, request, "viewer_schools.html", {"schools": schools}
        )

    @app.get("/schools/{school_id}/pupils", response_class=HTMLResponse)
    async def pupils_page(
        request: Request, school_id: str, principal: StaffPrincipal, q: str = ""
    ) -> Response:
        """The school's pupils with a current report that this person may see."""
        page_school(school_id)
        if not principal.is_person:
            raise HTTPException(403, "only granted staff")
        try:
            enrolments, reports, held = await cache.school_listing(school_id, principal.subject)
        except CacheNotReady:
            return await run_in_threadpool(unavailable, request)
        day = clock()
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
                "pupils": pupils,
                "q": query,
                "role": _(ROLE_LABELS.get(held.role, held.role)),
            },
        )

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
                "at": local_time(v.viewed_at),
            }
            for v in views
        ]

    @app.get("/schools/{school_id}/views", response_class=HTMLResponse)
    async def school_views_page(
        request: Request, school_id: str, principal: StaffPrincipal
    ) -> Response:
        """Who viewed which pupil's report at the school (its responsible only)."""
        page_school(school_id)
        if not principal.is_person or school_id not in principal.school_admin_of:
            raise HTTPException(403, "school_id: you are not the responsible of this school")
        try:
            enrolments, _reports, _held = await cache.school_listing(school_id, None)
        except CacheNotReady:
            return await run_in_threadpool(unavailable, request)
        names = {p: e.display_name for p, e in enrolments.items() if e.display_name}

        def read() -> list[service.View]:
            with sessions() as session:
                return service.views_at_school(session, school_id)

        views = await run_in_threadpool(read)
        return await run_in_threadpool(
            pages.render,
            request,
            "viewer_school_views.html",
            {
                "school_id": school_id,
                "views": view_rows(request, views, names),
                "access_url": access_url.rstrip("/"),
            },
        )

    async def name_of_pupil(pupil_id: str) -> str | None:
        for school in sorted(await cache.schools_of_pupil(pupil_id)):
            enrolments, _r, _g = await cache.school_listing(school, None)
            enrolment = enrolments.get(pupil_id)
            if enrolment is not None and enrolment.display_name:
                return enrolment.display_name
        return None

    async def sight_rows(request: Request, pupil_id: str) -> list[dict[str, Any]]:
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
            for sight in await who_can_see(cache, pupil_id, clock())
        ]

    @app.get("/my/views", response_class=HTMLResponse)
    async def my_views_page(request: Request, principal: StaffPrincipal) -> Response:
        """Who looked at the report of the pupil (yourself, or your children), when, as what."""
        if not principal.is_person:
            raise HTTPException(403, "only the pupil or a parent")
        pupils = sorted(set(principal.parent_of))

        def read(pupil_id: str) -> list[service.View]:
            with sessions() as session:
                return service.views_of(session, pupil_id)

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
                        "name": await name_of_pupil(pupil_id),
                        "own": False,
                        "views": await run_in_threadpool(read, pupil_id),
                    }
                )
        except CacheNotReady:
            return await run_in_threadpool(unavailable, request)
        try:
            for section in sections:
                section["masked"] = mask_insz(str(section["pupil_id"]))
                section["views"] = view_rows(request, section["views"], {})
                section["sights"] = await sight_rows(request, str(section["pupil_id"]))
        except CacheNotReady:
            return await run_in_threadpool(unavailable, request)
        return await run_in_threadpool(
            pages.render, request, "viewer_my_views.html", {"sections": sections}
        )
