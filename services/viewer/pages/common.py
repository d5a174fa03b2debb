"""What the viewer's pages share: the answer while the cache cannot say, and the school
in a page's path."""

from __future__ import annotations

import re

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from iris.ui.i18n import gettext_for
from iris.ui.pages import Pages

SCHOOL_ID = re.compile(r"^\d{1,12}$")


def unavailable(pages: Pages, request: Request) -> HTMLResponse:
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


async def cache_not_ready(request: Request, _exc: Exception) -> Response:
    """A page that found the cache not ready (CacheNotReady left unanswered): 503."""
    pages: Pages = request.app.state.pages
    return await run_in_threadpool(unavailable, pages, request)


def page_school(school_id: str) -> str:
    if not SCHOOL_ID.match(school_id):
        raise HTTPException(404, "school_id: no such school")
    return school_id


async def school_names(request: Request, schools: list[str]) -> dict[str, str]:
    """The names of the schools a page speaks of, from the register of schools (the access
    service, asked through services/viewer/embed.py); a school it does not name is shown by
    its number."""
    names: dict[str, str] = await request.app.state.embedding.school_names(schools)
    return names
