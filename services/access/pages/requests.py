"""Support-network requests: the pending ones to approve or reject, the decided ones."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iris.insz import mask_insz
from iris.ui.forms import page_form, validated
from iris.ui.i18n import N_
from services.access import domain, service
from services.access.models import AccessRequestRow
from services.access.pages.grant_people import Names, names_at
from services.access.pages.shared import (
    FormState,
    Page,
    PageDep,
    Posted,
    SchoolResponsible,
    form_date,
    form_post,
    form_text,
    rule_message,
)
from services.access.routes.requests import ApproveIn, RejectIn

router = APIRouter()


ApproveForm = page_form(ApproveIn, "ApproveForm", valid_until=form_date)
RejectForm = page_form(
    RejectIn,
    "RejectForm",
    reason=lambda value: form_text(
        value, N_("Give the reason the support network will read."), 1000
    ),
)


def request_view(row: AccessRequestRow, names: Names) -> dict[str, Any]:
    return {
        "request_id": row.request_id,
        "support_network": row.support_network,
        "person": row.person_name or names.person(row.person_id),
        "person_masked": mask_insz(row.person_id),
        "pupils": [names.pupil(p) for p in json.loads(row.pupil_ids)],
        "motivation": row.motivation,
        "status": row.status,
        "reason": row.reason,
        "created_at": row.created_at,
    }


def requests_list(
    page: Page,
    school_id: str,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with page.deps.reading() as repo:
        rows = service.requests_at(repo, school_id)
    with page.deps.sessions() as session:
        names = names_at(session, school_id)
    pending = [request_view(r, names) for r in rows if r.status == "pending"]
    decided = [request_view(r, names) for r in rows if r.status != "pending"]
    values = {"pending": pending, "decided": decided, "errors": errors or {}}
    return page.render("access_requests.html", school_id, "requests", values, status_code)


@router.get("/schools/{school_id}/requests", response_class=HTMLResponse)
def requests_page(page: PageDep, school_id: str, responsible: SchoolResponsible) -> HTMLResponse:
    """Support-network requests: the pending ones to decide, the decided ones below."""
    return requests_list(page, school_id)


def approve(
    page: Page, school_id: str, request_id: str, actor: str, values: dict[str, str]
) -> Response:
    form, errors = validated(ApproveForm, values, page.request)
    if form is None:
        return requests_list(page, school_id, {request_id: errors}, 422)
    until = form.valid_until
    today = page.deps.today()
    try:
        page.deps.write(
            lambda repo: service.approve(repo, school_id, request_id, actor, today, until)
        )
    except domain.AccessRuleBroken as exc:
        field = "valid_until" if exc.field == "valid_until" else "decision"
        broken = {request_id: {field: page.gettext(rule_message(exc))}}
        return requests_list(page, school_id, broken, 422)
    return RedirectResponse(f"/schools/{school_id}/requests?notice=approved", status_code=303)


@form_post(router, "/schools/{school_id}/requests/{request_id}/approve")
def approve_request(
    page: PageDep, school_id: str, request_id: str, actor: SchoolResponsible, values: Posted
) -> Response:
    return approve(page, school_id, request_id, actor, values)


def reject_form(page: Page, school_id: str, request_id: str, form: FormState) -> HTMLResponse:
    with page.deps.reading() as repo:
        row = service.request_row(repo, request_id, school_id)
    with page.deps.sessions() as session:
        item = request_view(row, names_at(session, school_id))
    context = {"item": item, "values": form.values, "errors": form.errors}
    return page.render("access_reject.html", school_id, "requests", context, form.status_code)


@router.get("/schools/{school_id}/requests/{request_id}/reject", response_class=HTMLResponse)
def reject_page(
    page: PageDep, school_id: str, request_id: str, responsible: SchoolResponsible
) -> HTMLResponse:
    """The form to reject a request, with the reason."""
    return reject_form(page, school_id, request_id, FormState({"reason": ""}))


def reject(
    page: Page, school_id: str, request_id: str, actor: str, values: dict[str, str]
) -> Response:
    form, errors = validated(RejectForm, values, page.request)
    if form is None:
        return reject_form(page, school_id, request_id, FormState(values, errors))
    reason = form.reason
    try:
        page.deps.write(lambda repo: service.reject(repo, school_id, request_id, reason, actor))
    except domain.AccessRuleBroken as exc:
        refused = FormState(values, {"reason": page.gettext(rule_message(exc))})
        return reject_form(page, school_id, request_id, refused)
    return RedirectResponse(f"/schools/{school_id}/requests?notice=rejected", status_code=303)


@form_post(router, "/schools/{school_id}/requests/{request_id}/reject")
def reject_request(
    page: PageDep, school_id: str, request_id: str, actor: SchoolResponsible, values: Posted
) -> Response:
    return reject(page, school_id, request_id, actor, {"reason": "", **values})
