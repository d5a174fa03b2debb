"""The view-only report page, for granted staff in a browser and for school software's
frames. Every request is checked in the authorisation cache and fails closed; a denial
looks the same (404, same body) whatever the reason, which goes to the audit topic and
the log. Every page served is one record of the view."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from prometheus_client import Counter

from iris.auth import Principal
from iris.insz import last_two_digits, mask_insz
from iris.ui.dates import brussels_moment
from iris.ui.i18n import gettext_for, language_of
from iris.ui.labels import KIND_LABELS, LEVEL_LABELS, ROLE_LABELS
from iris.ui.pages import Pages
from services.viewer import domain, service
from services.viewer.bootstrap import Dependencies
from services.viewer.content import ReportGone
from services.viewer.deps import Deps, PagesDep, SchoolQuery, StaffPrincipal
from services.viewer.reports_token import TokenUnavailable
from services.viewer.security import navigation_from_elsewhere

log = logging.getLogger(__name__)
router = APIRouter()

REPORT_CHECKS = Counter(
    "iris_viewer_report_checks_total", "Report page checks by outcome", ["channel", "outcome"]
)
AUTHZ_DECISIONS = Counter(
    "iris_authz_decisions_total",
    "Authorisation decisions for report views: allowed, denied, or unavailable "
    "(denied because Redis or the cache could not answer)",
    ["outcome"],
)
PupilInPath = Annotated[str, Path(max_length=20)]


class Denied(Exception):
    """The page is not shown: `reason` goes to the audit topic and the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@router.get("/pupils/{pupil_id}/report", response_class=HTMLResponse, include_in_schema=True)
async def view_report(
    request: Request,
    pupil_id: PupilInPath,
    principal: StaffPrincipal,
    deps: Deps,
    pages: PagesDep,
    school_id: SchoolQuery = None,
) -> Response:
    """The pupil's current report as a view-only page (granted staff; a browser signs
    in with the session cookie, school software and tests send a bearer token).

    A browser that came from another site first gets a page asking to open the report:
    a link elsewhere cannot make a signed-in person "view" a report unawares."""
    if navigation_from_elsewhere(request):
        href = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return pages.render(
            request, "report_confirm.html", {"href": href, "pupil_masked": mask_insz(pupil_id)}
        )
    return await show_report(request, pupil_id, school_id, principal, "web", deps, pages)


async def show_report(
    request: Request,
    pupil_id: str,
    school_id: str | None,
    principal: Principal,
    channel: str,
    deps: Dependencies,
    pages: Pages,
) -> Response:
    person = principal.subject
    back = f"/schools/{school_id}/pupils" if school_id else "/schools"
    where = {"framed": channel == "embedded", "back_url": back}
    try:
        decision, report = await allowed_report(pupil_id, school_id, principal, deps)
    except Denied as denied:
        log.info("report view denied", extra={"reason": denied.reason})
        REPORT_CHECKS.labels(channel, "denied").inc()
        unavailable = denied.reason.startswith("authorisation cache ")
        AUTHZ_DECISIONS.labels("unavailable" if unavailable else "denied").inc()
        await deps.recorder.denial(person, pupil_id, denied.reason)
        return pages.render(request, "denied.html", where, status_code=404)
    except (httpx.HTTPError, ValueError, TokenUnavailable) as exc:
        log.warning("reports service unavailable", extra={"error": type(exc).__name__})
        return pages.render(request, "unavailable.html", status_code=503)
    assert decision.report is not None
    viewed = service.now()
    # every page served is one record, whatever the request carries
    await deps.recorder.view(
        service.View(
            view_id=service.new_view_id(),
            pupil_id=pupil_id,
            person_id=person,
            person_name=principal.name,
            role=decision.role or "",
            school_id=decision.school_id or "",
            report_id=decision.report.report_id,
            version=decision.report.version,
            channel=channel,
            viewed_at=viewed,
        )
    )
    REPORT_CHECKS.labels(channel, "viewed").inc()
    AUTHZ_DECISIONS.labels("allowed").inc()
    stamp = brussels_moment(viewed, language_of(request))
    name = await pupil_name(deps, pupil_id, decision.school_id)
    values = page_values(request, principal, decision, report, stamp)
    return pages.render(
        request,
        "report.html",
        {**values, **where, "pupil_name": name, "pupil_masked": last_two_digits(pupil_id)},
    )


async def allowed_report(
    pupil_id: str, school_id: str | None, principal: Principal, deps: Dependencies
) -> tuple[domain.Decision, dict[str, Any]]:
    """The decision that allows the view, and the report with its content; Denied else."""
    if not principal.is_person:
        raise Denied("only people with a grant may view reports")
    decision = await deps.cache.check(principal.subject, pupil_id, deps.clock(), school_id)
    current = decision.report
    if not decision.allowed or current is None:
        raise Denied(decision.reason or "denied")
    # the check above has allowed this version; its content may come from the cache
    report = deps.contents.get(current.report_id)
    if report is None:
        try:
            report = await deps.reports.fetch(current.report_id)
        except ReportGone:
            raise Denied("report no longer current at the reports service") from None
    if str(report.get("pupil_id")) != pupil_id or report.get("version") != current.version:
        raise Denied("reports service answered another version")
    deps.contents.put(current.report_id, report)
    return decision, report


async def pupil_name(deps: Dependencies, pupil_id: str, school_id: str | None) -> str | None:
    """The name the school registered, for the page's header; the page shows without it
    when Redis cannot say (the view was already allowed and recorded)."""
    if school_id is None:
        return None
    try:
        return await deps.cache.registered_name(pupil_id, school_id)
    except Exception as exc:
        log.warning("pupil name unavailable", extra={"error": type(exc).__name__})
        return None


def page_values(
    request: Request,
    principal: Principal,
    decision: domain.Decision,
    report: dict[str, Any],
    stamp: str,
) -> dict[str, Any]:
    _ = gettext_for(request).gettext
    viewer_name = principal.name or _("unknown")
    level = report.get("level")
    return {
        "report": report,
        "content": report.get("content") or {},
        "kind_label": _(KIND_LABELS.get(str(report.get("kind")), KIND_LABELS["V"])),
        "level_label": _(LEVEL_LABELS[level]) if level in LEVEL_LABELS else None,
        "viewer_name": viewer_name,
        "viewer_masked": mask_insz(principal.subject),
        "role_label": _(ROLE_LABELS.get(decision.role or "", decision.role or "")),
        "viewed_at": stamp,
        "watermark": f"{viewer_name} · {mask_insz(principal.subject)} · {stamp}",
    }
