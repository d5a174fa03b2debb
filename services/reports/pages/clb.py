"""The CLB staff's pages: find a pupil by INSZ, issue a report, read the version
history (metadata only) and withdraw a version after confirming.

Report content appears only on the issue form while it is typed (and when the
form comes back with errors); it is never logged, never put in a URL, and the
history shows metadata alone. Every rule is checked here, on the server, with
the register's own rules (see `forms.py`).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from iris.auth import Principal
from iris.contracts import utcnow
from iris.insz import insz_digits, show_insz
from iris.ui import CsrfProtected, OptionalPrincipal, PagePrincipal, Pages
from iris.ui.forms import insz_error
from iris.ui.home import roles_of
from iris.ui.i18n import gettext_for
from services.reports import domain, metrics, service
from services.reports.bootstrap import Dependencies
from services.reports.deps import Deps, PagesDep
from services.reports.pages.forms import (
    Shown,
    check_issue_form,
    form_values,
    history_rows,
    pupil_or_404,
    require_clb_staff,
)
from services.reports.pages.pupil_identity import CONFIRM_FIELD, identity_of
from services.reports.repository import ReportRepository
from services.reports.visibility import schools_that_see

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, name="home")
def home(request: Request, principal: OptionalPrincipal, pages: PagesDep) -> Response:
    """CLB staff go straight to finding a pupil; anyone else sees who they are."""
    if principal is not None and principal.clb_staff_of:
        return RedirectResponse("/clb/pupils", status_code=303)
    roles = roles_of(principal, request) if principal else []
    return pages.render(request, "home.html", {"roles": roles})


@router.get("/clb/pupils", response_class=HTMLResponse)
def find_pupil(
    request: Request, principal: PagePrincipal, pages: PagesDep, insz: str | None = None
) -> Response:
    """Find a pupil by INSZ (national register number)."""
    require_clb_staff(principal)
    _ = gettext_for(request).gettext
    errors: dict[str, str] = {}
    if insz is not None:
        problem = insz_error(insz, _)
        if problem is not None:
            errors["insz"] = problem
        else:
            return RedirectResponse(f"/clb/pupils/{insz_digits(insz)}", status_code=303)
    return pages.render(
        request,
        "clb_find.html",
        {"errors": errors, "values": {"insz": insz or "", "name": ""}, "matches": None},
        status_code=422 if errors else 200,
    )


@router.get("/clb/pupils/{pupil_id}", response_class=HTMLResponse)
def pupil_history(
    request: Request,
    pupil_id: str,
    principal: PagePrincipal,
    pages: PagesDep,
    deps: Deps,
    issued: int | None = None,
    withdrawn: int | None = None,
) -> Response:
    """The pupil's report versions with their status: metadata only."""
    require_clb_staff(principal)
    pupil_or_404(pupil_id)
    versions = deps.read(lambda repo: repo.versions_of(pupil_id))
    rows = history_rows(versions, deps.clock(), principal, request)
    # which schools see it: for the CLB whose report is current
    current_clb = next((r["clb_id"] for r in rows if r["status"] == "current"), None)
    ours = current_clb in principal.clb_staff_of
    return pages.render(
        request,
        "clb_history.html",
        {
            "insz": pupil_id,
            "insz_shown": show_insz(pupil_id),
            "identity": identity_of(request, principal, deps, pupil_id),
            "rows": rows,
            "show_sights": ours,
            "sights": schools_that_see(deps.settings, request, pupil_id) if ours else None,
            "issued": issued,
            "withdrawn": withdrawn,
        },
    )


@router.get("/clb/pupils/{pupil_id}/reports/new", response_class=HTMLResponse)
def issue_form(
    request: Request, pupil_id: str, principal: PagePrincipal, pages: PagesDep, deps: Deps
) -> Response:
    """An empty issue form (starting today, the CLB chosen when there is only one)."""
    require_clb_staff(principal)
    pupil_or_404(pupil_id)
    values = form_values(request, principal, pupil_id)
    clbs = values["clbs"]
    posted = {"clb_id": clbs[0] if len(clbs) == 1 else "", "valid_from": deps.clock().isoformat()}
    identity = identity_of(request, principal, deps, pupil_id)
    context = {**values, "identity": identity, "values": posted, "errors": {}}
    return pages.render(request, "clb_issue.html", context)


@router.post(
    "/clb/pupils/{pupil_id}/reports",
    response_class=HTMLResponse,
    dependencies=[CsrfProtected],
)
async def issue_posted(
    request: Request, pupil_id: str, principal: PagePrincipal, pages: PagesDep, deps: Deps
) -> Response:
    """Check the form by the register's rules; issue, or show each error by its field."""
    raw = await request.form()
    posted = {k: v for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}
    return await run_in_threadpool(issue_checked, request, principal, pupil_id, posted, pages, deps)


def issue_checked(
    request: Request,
    principal: Principal,
    pupil_id: str,
    posted: dict[str, str],
    pages: Pages,
    deps: Dependencies,
) -> Response:
    require_clb_staff(principal)
    pupil_or_404(pupil_id)
    form, placement, errors = check_issue_form(posted, principal, request)
    identity = identity_of(request, principal, deps, pupil_id)
    if identity.needs_confirmation and posted.get(CONFIRM_FIELD) != "yes":
        _ = gettext_for(request).gettext
        errors = {
            CONFIRM_FIELD: _("Confirm that you checked the national register number."),
            **errors,
        }
    if errors or form is None or placement is None:
        # The content goes back to the person typing it, and nowhere else.
        values = form_values(request, principal, pupil_id)
        return pages.render(
            request,
            "clb_issue.html",
            {**values, "identity": identity, "values": posted, "errors": errors},
            status_code=422,
        )
    request_ = service.IssueRequest(
        pupil_id=pupil_id,
        clb_id=form.clb_id,
        placement=placement,
        valid_from=form.valid_from,
        content=domain.Content(form.needs, form.advice, form.measures_taken, form.reasoning),
        issued_by=principal.subject,
        issued_by_name=principal.name,
    )
    report = deps.write(lambda repo: service.issue(repo, request_, utcnow()).report)
    metrics.issued(report)
    return RedirectResponse(f"/clb/pupils/{pupil_id}?issued={report.version}", status_code=303)


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


@router.get("/clb/reports/{report_id}/withdraw", response_class=HTMLResponse)
def withdraw_confirm(
    request: Request, report_id: str, principal: PagePrincipal, pages: PagesDep, deps: Deps
) -> Response:
    """Ask first (a page, no JavaScript): withdrawing cannot be undone."""
    require_clb_staff(principal)
    found = withdrawable(report_id, principal, deps)
    history = f"/clb/pupils/{found.pupil_id}"
    if found.withdrawn:
        return RedirectResponse(history, status_code=303)
    _ = gettext_for(request).gettext
    shown = Shown(request)
    return pages.confirm(
        request,
        title=_("Withdraw version %(version)s?") % {"version": found.version},
        question=_(
            "Version %(version)s (%(kind)s, from %(day)s) of the report of pupil "
            "%(pupil)s will be withdrawn. A withdrawn version is never shown again; "
            "if it is the current report, the pupil has no current report until a new "
            "one is issued."
        )
        % {
            "version": found.version,
            "kind": found.kind,
            "day": shown.day(found.valid_from),
            "pupil": show_insz(found.pupil_id),
        },
        action=f"/clb/reports/{found.report_id}/withdraw",
        confirm_label=_("Withdraw version %(version)s") % {"version": found.version},
        cancel_url=history,
    )


@router.post(
    "/clb/reports/{report_id}/withdraw",
    dependencies=[CsrfProtected],
)
def withdraw_posted(
    request: Request, report_id: str, principal: PagePrincipal, deps: Deps
) -> Response:
    """Withdraw (opheffing); withdrawing again changes nothing."""
    require_clb_staff(principal)
    found = withdrawable(report_id, principal, deps)

    def change(repo: ReportRepository) -> service.Withdrawal:
        return service.withdraw(
            repo,
            found.report_id,
            principal.clb_staff_of,
            principal.subject,
            utcnow(),
            deps.clock(),
        )

    done = deps.write(change)
    if done.changed:
        metrics.withdrawn(done.report)
    return RedirectResponse(
        f"/clb/pupils/{found.pupil_id}?withdrawn={found.version}", status_code=303
    )
