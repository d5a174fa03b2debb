"""Withdrawing a version from the CLB pages: a page that asks why, then the withdrawal.

The reason is kept in the register and shown in the version history; it is never
published (`ReportWithdrawn` names the version alone) and never logged."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from iris.auth import Principal
from iris.contracts import utcnow
from iris.ui import CsrfProtected, PagePrincipal, Pages
from iris.ui.i18n import gettext_for
from services.reports import domain, metrics, service
from services.reports.bootstrap import Dependencies
from services.reports.deps import Deps, PagesDep
from services.reports.pages.forms import Shown, require_clb_staff, show_insz
from services.reports.repository import ReportRepository

router = APIRouter(include_in_schema=False)

REASON_MAX_CHARS = 1000
# Only a version that is or will be the current one is offered for withdrawal.
OFFERED = ("current", "scheduled")


def offered(
    version: domain.ReportVersion,
    versions: list[domain.ReportVersion],
    today: date,
    principal: Principal,
) -> bool:
    """Whether the history offers to withdraw this version: the issuing CLB's staff, and a
    version that is current or scheduled (never a replaced or withdrawn one)."""
    return domain.may_withdraw(version, principal.clb_staff_of) and (
        domain.status_of(version, versions, today) in OFFERED
    )


def withdrawable(report_id: str, principal: Principal, deps: Dependencies) -> domain.ReportVersion:
    try:
        key = uuid.UUID(report_id)
    except ValueError:
        raise HTTPException(404, "no such report") from None
    found = deps.read(lambda repo: repo.get(key))
    if found is None:
        raise HTTPException(404, "no such report")
    if not domain.may_withdraw(found, principal.clb_staff_of):
        raise HTTPException(403, "only staff of the issuing CLB may withdraw a report")
    return found


def still_offered(found: domain.ReportVersion, principal: Principal, deps: Dependencies) -> bool:
    versions = deps.read(lambda repo: repo.versions_of(found.pupil_id))
    return offered(found, versions, deps.clock(), principal)


def ask(
    request: Request,
    pages: Pages,
    found: domain.ReportVersion,
    reason: str = "",
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page that asks why, with what withdrawing does."""
    _ = gettext_for(request).gettext
    shown = Shown(request)
    question = _(
        "Version %(version)s (%(kind)s, from %(day)s) of the report of pupil "
        "%(pupil)s will be withdrawn. A withdrawn version is never shown again; "
        "if it is the current report, the pupil has no current report until a new "
        "one is issued."
    ) % {
        "version": found.version,
        "kind": found.kind,
        "day": shown.day(found.valid_from),
        "pupil": show_insz(found.pupil_id),
    }
    return pages.render(
        request,
        "clb_withdraw.html",
        {
            "version": found.version,
            "question": question,
            "action": f"/clb/reports/{found.report_id}/withdraw",
            "cancel_url": f"/clb/pupils/{found.pupil_id}",
            "values": {"reason": reason},
            "errors": errors or {},
            "reason_max": REASON_MAX_CHARS,
        },
        status_code=422 if errors else 200,
    )


@router.get("/clb/reports/{report_id}/withdraw", response_class=HTMLResponse)
def withdraw_confirm(
    request: Request, report_id: str, principal: PagePrincipal, pages: PagesDep, deps: Deps
) -> Response:
    """Ask why first (a page, no JavaScript): withdrawing cannot be undone."""
    require_clb_staff(principal)
    found = withdrawable(report_id, principal, deps)
    if not still_offered(found, principal, deps):
        return RedirectResponse(f"/clb/pupils/{found.pupil_id}", status_code=303)
    return ask(request, pages, found)


def reason_problem(reason: str, request: Request) -> str | None:
    _ = gettext_for(request).gettext
    if not reason:
        return _("Say why this version is withdrawn.")
    if len(reason) > REASON_MAX_CHARS:
        return _("Write the reason in at most %(count)s characters.") % {"count": REASON_MAX_CHARS}
    return None


@router.post("/clb/reports/{report_id}/withdraw", dependencies=[CsrfProtected])
async def withdraw_posted(
    request: Request, report_id: str, principal: PagePrincipal, pages: PagesDep, deps: Deps
) -> Response:
    """Withdraw (opheffing) with its reason; withdrawing again changes nothing."""
    posted = await request.form()
    typed = posted.get("reason")
    reason = typed.strip() if isinstance(typed, str) else ""
    return await run_in_threadpool(
        withdraw_checked, request, report_id, principal, pages, deps, reason
    )


def withdraw_checked(
    request: Request,
    report_id: str,
    principal: Principal,
    pages: Pages,
    deps: Dependencies,
    reason: str,
) -> Response:
    require_clb_staff(principal)
    found = withdrawable(report_id, principal, deps)
    history = f"/clb/pupils/{found.pupil_id}"
    if found.withdrawn:
        return RedirectResponse(f"{history}?withdrawn={found.version}", status_code=303)
    if not still_offered(found, principal, deps):
        raise HTTPException(409, "a replaced version cannot be withdrawn")
    problem = reason_problem(reason, request)
    if problem is not None:
        return ask(request, pages, found, reason, {"reason": problem})

    def change(repo: ReportRepository) -> service.Withdrawal:
        return service.withdraw(
            repo,
            found.report_id,
            principal.clb_staff_of,
            principal.subject,
            utcnow(),
            deps.clock(),
            reason,
        )

    done = deps.write(change)
    if done.changed:
        metrics.withdrawn(done.report)
    return RedirectResponse(f"{history}?withdrawn={found.version}", status_code=303)
