"""The CLB staff's pages: find a pupil by INSZ, issue a report after reviewing it, and read
the version history (metadata only); withdrawing is in `withdrawal.py`.

Report content appears only on the issue form and its review while it is typed (and
when the form comes back with errors); it is never logged, never put in a URL, and the
history shows metadata alone. Every rule is checked here, on the server, with
the register's own rules (see `forms.py`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
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
    check_issue_form,
    form_values,
    history_rows,
    pupil_or_404,
    require_clb_staff,
)
from services.reports.pages.pupil_identity import CONFIRM_FIELD, identity_of
from services.reports.pages.review import CHANGE_STEP, ISSUE_STEP, STEP_FIELD, review_values
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
    """The form again (with its errors, or to change it), its review, or the issue itself."""
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
    step = posted.get(STEP_FIELD)
    if errors or form is None or placement is None or step == CHANGE_STEP:
        # The content goes back to the person typing it, and nowhere else.
        values = form_values(request, principal, pupil_id)
        return pages.render(
            request,
            "clb_issue.html",
            {**values, "identity": identity, "values": posted, "errors": errors},
            status_code=422 if errors else 200,
        )
    if step != ISSUE_STEP:
        versions = deps.read(lambda repo: repo.versions_of(pupil_id))
        review = review_values(form, placement, versions, deps.clock(), request)
        kept = {k: v for k, v in posted.items() if k != STEP_FIELD}
        context = {"insz": pupil_id, "insz_shown": show_insz(pupil_id), "posted": kept}
        return pages.render(request, "clb_issue_review.html", {**context, **review})
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
