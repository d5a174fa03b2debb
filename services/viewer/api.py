"""Viewer HTTP API: which pupils have a current report, the view-only report page,
and who viewed a pupil's report.

Authentication is the bearer token in the `Authorization` header on every route,
the HTML pages included (school software frames and tests set the header; session
cookies for plain browser navigation come with the login issue). Every check reads
the authorisation cache in Redis and fails closed: a missing cache, a cache not yet
rebuilt or any Redis error denies. A denial of a report page looks the same (404,
same body) whatever the reason; the reason goes to the audit topic and the log.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter, Gauge
from pydantic import BaseModel
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iris.auth import Principal, verifier_for
from iris.insz import INSZ, InstitutionNumber, last_two_digits, mask_insz
from iris.settings import Settings
from iris.store import ServiceStore
from iris.ui import install_pages
from iris.ui.i18n import gettext_for
from iris.ui.labels import KIND_LABELS, LEVEL_LABELS, ROLE_LABELS
from iris.web import CurrentPrincipal, create_base_app
from services.viewer import domain, service
from services.viewer.cache import AuthCache, CacheNotReady
from services.viewer.embed import install_embedding
from services.viewer.models import Outbox
from services.viewer.pages import StaffPrincipal, install_viewer_pages
from services.viewer.recording import AuditRecorder
from services.viewer.reports_token import ServiceToken, TokenUnavailable
from services.viewer.visibility import router as visibility_router

SERVICE = "viewer"
HERE = FilePath(__file__).parent
log = logging.getLogger(__name__)

STRICT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'"
)
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'"
)
REPORT_PATH = re.compile(r"^/((embed/)?pupils/[^/]+/report|embed/report)$")
UNGUARDED = ("/docs", "/redoc", "/openapi.json")
BRUSSELS = ZoneInfo("Europe/Brussels")
REPORT_CHECKS = Counter(
    "iris_viewer_report_checks_total", "Report page checks by outcome", ["channel", "outcome"]
)
AUTHZ_DECISIONS = Counter(
    "iris_authz_decisions_total",
    "Authorisation decisions for report views: allowed, denied, or unavailable "
    "(denied because Redis or the cache could not answer)",
    ["outcome"],
)
CACHE_READY = Gauge("iris_viewer_cache_ready", "1 when the authorisation cache is ready")
SchoolQuery = Annotated[InstitutionNumber | None, Query()]


def today() -> str:
    """The date in Belgium: enrolments, grants and reports start and end on Belgian dates."""
    return datetime.now(BRUSSELS).date().isoformat()


class ReportFlag(BaseModel):
    pupil_id: str
    display_name: str | None
    kind: str
    version: int
    valid_from: date


class PupilsWithReport(BaseModel):
    school_id: str
    pupils: list[ReportFlag]


class ViewOut(BaseModel):
    view_id: str
    person_id: str
    person_name: str | None
    role: str
    school_id: str
    report_id: str
    version: int
    channel: str
    viewed_at: datetime


class ContentCache:
    """A small in-process cache of report content, keyed by report id.

    A report version never changes (a new version has a new report id), so content
    fetched once may be shown again; what may change is whether the caller may see it,
    and that is checked in Redis on every request before the cache is consulted. The
    entries are bounded in number and age; they live in memory only and are never
    logged.
    """

    def __init__(self, max_entries: int = 512, max_age_seconds: float = 300.0) -> None:
        self.max_entries = max_entries
        self.max_age_seconds = max_age_seconds
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, report_id: str) -> dict[str, Any] | None:
        entry = self._entries.get(report_id)
        if entry is None:
            return None
        if time.monotonic() - entry[0] > self.max_age_seconds:
            del self._entries[report_id]
            return None
        self._entries.move_to_end(report_id)
        return entry[1]

    def put(self, report_id: str, report: dict[str, Any]) -> None:
        if report_id in self._entries:
            self._entries.move_to_end(report_id)
            return
        self._entries[report_id] = (time.monotonic(), report)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


def navigation_from_elsewhere(request: Request) -> bool:
    """Whether a browser with the session cookie was sent here by something other than
    an IRIS page: `Sec-Fetch-Site` is cross-site, none (a link opened from an e-mail or
    another program, a bookmark) or missing. A request with a bearer header carries no
    ambient credentials: school software and API clients ask on purpose."""
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return False
    return request.headers.get("sec-fetch-site") not in ("same-origin", "same-site")


class ReportGone(Exception):
    """The reports service no longer serves this version as current."""


class SecurityHeaders:
    """No-store, nosniff, no referrer and the content security policy on every answer
    (plain ASGI: it sets the headers as the response starts)."""

    def __init__(self, app: ASGIApp, embed_origins: list[str]) -> None:
        self.app = app
        self.embed_ancestors = " ".join(embed_origins) or "'none'"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in UNGUARDED:
            await self.app(scope, receive, send)
            return
        embedded = path.startswith("/embed/")
        # an /embed route may name its frame's ancestors (the school's origins) and a
        # policy of its own (the sign-in page's script); see services/viewer/embed.py
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                ancestors = "'none'"
                if embedded:
                    ancestors = state.get("frame_ancestors") or self.embed_ancestors
                # the report page allows no form at all; the other pages post their forms
                # to this service (sign-out, search) and load nothing from elsewhere
                policy = STRICT_CSP if REPORT_PATH.match(path) else PAGE_CSP
                policy = (state.get("page_policy") if embedded else None) or policy
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = f"{policy}; frame-ancestors {ancestors}"
                headers["Cache-Control"] = "no-store"
                headers["Pragma"] = "no-cache"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if not embedded:
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings | None = None,
    cache: AuthCache | None = None,
    clock: Callable[[], str] = today,
) -> FastAPI:
    settings = settings or Settings()
    store = ServiceStore.open(SERVICE, settings, Outbox)
    sessions, relay = store.sessions, store.relay
    auth_cache = cache or AuthCache.from_url(settings.redis_url)
    http = httpx.AsyncClient(timeout=5.0)
    token_for_reports = ServiceToken(settings, http)
    contents = ContentCache()
    recorder = AuditRecorder(sessions, relay.notify)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with store.running():
            try:
                yield
            finally:
                await http.aclose()
                await auth_cache.close()

    async def cache_ready() -> str | None:
        try:
            return await auth_cache.readiness()
        except Exception:
            log.warning("authorisation cache unavailable", exc_info=True)
            return "authorisation cache unavailable"

    async def update_metrics() -> None:
        CACHE_READY.set(0 if await cache_ready() else 1)
        await store.update_metrics()

    app = create_base_app(
        SERVICE,
        readiness=[("authorisation cache", cache_ready), ("database", store.database_ready)],
        max_body_bytes=settings.max_body_bytes,
        lifespan=lifespan,
    )
    app.state.verifier = verifier_for(settings)
    app.state.sessions = sessions
    app.state.relay = relay
    app.state.cache = auth_cache
    app.state.contents = contents
    app.state.recorder = recorder
    app.state.metrics_hooks = [update_metrics]
    app.state.clock = clock
    app.include_router(visibility_router)
    app.add_middleware(SecurityHeaders, embed_origins=list(settings.embed_origins))
    pages = install_pages(app, settings, SERVICE, template_dirs=[HERE / "templates"], home=False)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    install_viewer_pages(app, pages, sessions, auth_cache, clock, settings.access_url)

    def denied_page(request: Request) -> HTMLResponse:
        return pages.render(request, "denied.html", status_code=404)

    async def pupil_name(pupil_id: str, school_id: str | None) -> str | None:
        """The name the school registered, for the page's header; the page shows without it
        when Redis cannot say (the view was already allowed and recorded)."""
        if school_id is None:
            return None
        try:
            return await auth_cache.registered_name(pupil_id, school_id)
        except Exception as exc:
            log.warning("pupil name unavailable", extra={"error": type(exc).__name__})
            return None

    async def deny(person_id: str, pupil_id: str, reason: str, channel: str) -> None:
        log.info("report view denied", extra={"reason": reason})
        REPORT_CHECKS.labels(channel, "denied").inc()
        unavailable = reason.startswith("authorisation cache ")
        AUTHZ_DECISIONS.labels("unavailable" if unavailable else "denied").inc()

        await recorder.denial(person_id, pupil_id, reason)

    async def fetch_report(report_id: str) -> dict[str, Any]:
        response = await http.get(
            f"{settings.reports_url.rstrip('/')}/internal/reports/{report_id}",
            headers={"Authorization": f"Bearer {await token_for_reports()}"},
        )
        if response.status_code == 404:
            raise ReportGone
        if response.status_code == 401:
            token_for_reports.forget()  # refused (a rotated key): the next view fetches anew
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def show_report(
        request: Request,
        pupil_id: str,
        school_id: str | None,
        principal: Principal,
        channel: str,
    ) -> Response:
        person = principal.subject
        if not principal.is_person:
            await deny(person, pupil_id, "only people with a grant may view reports", channel)
            return denied_page(request)
        decision = await auth_cache.check(person, pupil_id, clock(), school_id)
        if not decision.allowed or decision.report is None:
            await deny(person, pupil_id, decision.reason or "denied", channel)
            return denied_page(request)
        current = decision.report
        # the check above has allowed this version; its content may come from the cache
        report = contents.get(current.report_id)
        if report is None:
            try:
                report = await fetch_report(current.report_id)
            except ReportGone:
                await deny(
                    person, pupil_id, "report no longer current at the reports service", channel
                )
                return denied_page(request)
            except (httpx.HTTPError, ValueError, TokenUnavailable) as exc:
                log.warning("reports service unavailable", extra={"error": type(exc).__name__})
                return pages.render(request, "unavailable.html", status_code=503)
        if str(report.get("pupil_id")) != pupil_id or report.get("version") != current.version:
            await deny(person, pupil_id, "reports service answered another version", channel)
            return denied_page(request)
        contents.put(current.report_id, report)
        viewed = service.now()
        # every page served is one record, whatever the request carries
        await recorder.view(
            service.View(
                service.new_view_id(),
                pupil_id,
                person,
                principal.name,
                decision.role or "",
                decision.school_id or "",
                current.report_id,
                current.version,
                channel,
                viewed,
            )
        )
        REPORT_CHECKS.labels(channel, "viewed").inc()
        AUTHZ_DECISIONS.labels("allowed").inc()
        content = report.get("content") or {}
        stamp = viewed.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M")
        _ = gettext_for(request).gettext
        viewer_name = principal.name or _("unknown")
        return pages.render(
            request,
            "report.html",
            {
                "report": report,
                "content": content,
                "kind_label": _(KIND_LABELS.get(str(report.get("kind")), KIND_LABELS["V"])),
                "level_label": _(LEVEL_LABELS[level])
                if (level := report.get("level")) in LEVEL_LABELS
                else None,
                "pupil_name": await pupil_name(pupil_id, decision.school_id),
                "pupil_masked": last_two_digits(pupil_id),
                "viewer_name": viewer_name,
                "viewer_masked": mask_insz(person),
                "role_label": _(ROLE_LABELS.get(decision.role or "", decision.role or "")),
                "viewed_at": stamp,
                "watermark": f"{viewer_name} · {mask_insz(person)} · {stamp}",
            },
        )

    app.state.show_report = show_report
    install_embedding(app, settings, http)

    @app.get("/pupils/{pupil_id}/report", response_class=HTMLResponse, include_in_schema=True)
    async def view_report(
        request: Request,
        pupil_id: Annotated[str, Path(max_length=20)],
        principal: StaffPrincipal,
        school_id: SchoolQuery = None,
    ) -> Response:
        """The pupil's current report as a view-only page (granted staff; a browser signs
        in with the session cookie, school software and tests send a bearer token).

        A browser that came from another site first gets a page asking to open the report:
        a link elsewhere cannot make a signed-in person "view" a report unawares."""
        if navigation_from_elsewhere(request):
            href = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return pages.render(
                request,
                "report_confirm.html",
                {"href": href, "pupil_masked": mask_insz(pupil_id)},
            )
        return await show_report(request, pupil_id, school_id, principal, "web")

    @app.get("/v1/schools/{school_id}/pupils-with-report", response_model=PupilsWithReport)
    async def list_pupils_with_report(
        school_id: Annotated[InstitutionNumber, Path()], principal: CurrentPrincipal
    ) -> PupilsWithReport:
        """The pupils enrolled at the school today who have a current report (no content)."""
        whole_school = principal.school_client_of is not None
        if whole_school and principal.school_client_of != school_id:
            raise HTTPException(403, "school_id: a client may only list its own school")
        if not whole_school and not principal.is_person:
            raise HTTPException(403, "only granted staff or the school's software may list")
        try:
            enrolments, reports, held = await auth_cache.school_listing(
                school_id, None if whole_school else principal.subject
            )
        except CacheNotReady as exc:
            raise HTTPException(503, str(exc)) from exc
        except Exception as exc:
            log.warning("listing refused, cache unavailable", extra={"error": repr(exc)})
            raise HTTPException(503, "authorisation cache unavailable") from exc
        day = clock()
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

    @app.get("/v1/pupils/{pupil_id}/views", response_model=list[ViewOut])
    async def list_views(
        pupil_id: Annotated[INSZ, Path()], principal: CurrentPrincipal
    ) -> list[ViewOut]:
        """Who viewed the pupil's report: for the pupil, a parent, or a school responsible
        of a school where the pupil is or was enrolled (that school's views only)."""
        schools: set[str] | None = None
        if not principal.is_person:
            raise HTTPException(403, "only the pupil, a parent or the school responsible")
        if principal.subject != pupil_id and pupil_id not in principal.parent_of:
            try:
                enrolled_at = await auth_cache.schools_of_pupil(pupil_id)
            except CacheNotReady as exc:
                raise HTTPException(503, str(exc)) from exc
            except Exception as exc:
                raise HTTPException(503, "authorisation cache unavailable") from exc
            schools = enrolled_at & set(principal.school_admin_of)
            if not schools:
                raise HTTPException(403, "only the pupil, a parent or the school responsible")

        def read() -> list[service.View]:
            with sessions() as session:
                return service.views_of(session, pupil_id, schools)

        views = await asyncio.to_thread(read)
        return [
            ViewOut(
                view_id=v.view_id,
                person_id=v.person_id,
                person_name=v.person_name,
                role=v.role,
                school_id=v.school_id,
                report_id=v.report_id,
                version=v.version,
                channel=v.channel,
                viewed_at=v.viewed_at.astimezone(UTC),
            )
            for v in views
        ]

    return app
