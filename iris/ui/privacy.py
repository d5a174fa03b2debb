"""The privacy notice (`/privacy`) every service with pages serves, in Dutch and English:
what IRIS keeps, why, for how long (the retention settings), who sees it, and how a parent
asks for access or correction. docs/privacy.md is the reference it summarises."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from iris.settings import Settings
from iris.ui import i18n
from iris.ui.pages import Pages


@dataclass(frozen=True)
class Period:
    """A retention period as people read it: whole years where it is, else days."""

    days: int

    @property
    def years(self) -> int | None:
        return self.days // 365 if self.days % 365 == 0 else None


def periods(settings: Settings) -> dict[str, Period]:
    names = (
        "views",
        "ended_enrolment",
        "closed_grant",
        "closed_request",
        "audit",
        "replaced_report",
        "outbox",
        "intake",
    )
    return {name: Period(getattr(settings, f"retention_{name}_days")) for name in names}


def privacy_router(pages: Pages, settings: Settings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    kept = periods(settings)

    @router.get("/privacy", response_class=HTMLResponse, name="privacy")
    def privacy_notice(request: Request) -> HTMLResponse:
        """What IRIS keeps about pupils, parents and staff, why and for how long."""
        language = i18n.language_of(request)
        values = {"periods": kept, "viewer_url": settings.viewer_url.rstrip("/")}
        return pages.render(request, f"privacy/{language}.html", values)

    return router
