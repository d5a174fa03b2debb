"""Pages of the support request (*ondersteuningsvraag*) for the school: the school
responsible, care coordinators and pupil counsellors send one and follow each step.
The access requests it leads to are decided on the responsible's requests page."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from iris.auth import Principal
from iris.insz import last_two_digits
from iris.ui import PagePrincipal
from iris.ui.forms import page_form, validated
from iris.ui.i18n import N_
from services.access import domain, support
from services.access.models import EnrolmentCopyRow, GrantRow, SupportRequestRow
from services.access.pages.shared import (
    SCHOOL_ID,
    FormState,
    Page,
    PageDep,
    Posted,
    form_post,
    rule_message,
)
from services.access.routes.support import SupportRequestIn

router = APIRouter(include_in_schema=False)

SUPPORT_STATUS_LABELS = {
    "sent": N_("Sent, waiting for the support network"),
    "declined": N_("Declined by the support network"),
    "accepted": N_("Accepted; access waiting for the school responsible"),
    "granted": N_("Access granted"),
    "refused": N_("Access refused"),
}
WORKER_STATUS_LABELS = {
    "pending": N_("waiting"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
}


SupportRequestForm = page_form(SupportRequestIn, "SupportRequestForm")


def pupil_label(name: str | None, insz: str) -> str:
    return f"{name} ({last_two_digits(insz)})" if name else last_two_digits(insz)


def staff_of(page: Page, principal: Principal, school_id: str, pupil_id: str | None) -> str:
    if not SCHOOL_ID.match(school_id):
        raise HTTPException(404, "school_id: no such school")
    today = page.deps.today()
    responsible = principal.is_person and school_id in principal.school_admin_of
    with page.deps.sessions() as session:
        allowed = principal.is_person and support.may_follow(
            session, school_id, principal.subject, responsible, pupil_id, today
        )
    if not allowed:
        raise HTTPException(403, "school_id: you may not send support requests for this school")
    return principal.subject


def pupils_to_ask_about(
    session: Session, school_id: str, person_id: str, responsible: bool, today: date
) -> list[tuple[str, str]]:
    """(INSZ, label) of the pupils registered at the school that this person may name."""
    grant = session.scalar(
        select(GrantRow).where(GrantRow.school_id == school_id, GrantRow.person_id == person_id)
    )
    scope = None if responsible or grant is None else grant.to_domain().pupil_ids
    rows = session.scalars(
        select(EnrolmentCopyRow)
        .where(EnrolmentCopyRow.school_id == school_id)
        .order_by(EnrolmentCopyRow.display_name, EnrolmentCopyRow.pupil_id)
    )
    return [
        (row.pupil_id, pupil_label(row.display_name, row.pupil_id))
        for row in rows
        if domain.is_registered_on(row.start_date, row.end_date, today)
        and (scope is None or row.pupil_id in scope)
    ]


def request_view(session: Session, row: SupportRequestRow) -> dict[str, Any]:
    names = support.pupil_names(session, row.school_id, [row.pupil_id])
    return {
        "support_request_id": row.support_request_id,
        "pupil": pupil_label(names.get(row.pupil_id), row.pupil_id),
        "support_network": row.support_network,
        "question": row.question,
        "status": row.status,
        "decline_reason": row.decline_reason,
        "workers": [
            {"person": r.person_name or last_two_digits(r.person_id), "status": r.status}
            for r in support.access_requests_of(session, row.support_request_id)
        ],
        "named": json.loads(row.support_workers or "[]"),
        "sent_at": row.created_at,
    }


def render_page(
    page: Page, principal: Principal, school_id: str, form: FormState | None = None
) -> HTMLResponse:
    form = form or FormState()
    _ = page.gettext
    today = page.deps.today()
    responsible = principal.is_person and school_id in principal.school_admin_of
    with page.deps.sessions() as session:
        pupils = pupils_to_ask_about(session, school_id, principal.subject, responsible, today)
        followed = support.followed_by(session, school_id, principal.subject, responsible, today)
        requests = [request_view(session, r) for r in followed]
    notice = _("The support request is sent.") if page.request.query_params.get("notice") else ""
    return page.pages.render(
        page.request,
        "access_support_requests.html",
        {
            "school_id": school_id,
            "school_names": page.school_names(school_id),
            "section": "support",
            "responsible": responsible,
            "viewer_url": page.viewer_url,
            "waiting": page.waiting(school_id) if responsible else 0,
            "notice": notice,
            "pupils": pupils,
            "requests": requests,
            "values": form.values,
            "errors": form.errors,
            "support_status_labels": {k: _(v) for k, v in SUPPORT_STATUS_LABELS.items()},
            "worker_status_labels": {k: _(v) for k, v in WORKER_STATUS_LABELS.items()},
        },
        status_code=form.status_code,
    )


@router.get("/schools/{school_id}/support-requests", response_class=HTMLResponse)
def support_requests_page(page: PageDep, school_id: str, principal: PagePrincipal) -> HTMLResponse:
    """The school's support requests, and the form to send one."""
    staff_of(page, principal, school_id, None)
    return render_page(page, principal, school_id)


def _send(page: Page, principal: Principal, school_id: str, values: dict[str, str]) -> Response:
    form, errors = validated(SupportRequestForm, values, page.request)
    if form is None:
        return render_page(page, principal, school_id, FormState(values, errors))
    actor = staff_of(page, principal, school_id, form.pupil_id)
    today = page.deps.today()
    try:
        page.deps.store.write(
            lambda s: support.send(
                s, school_id, form.pupil_id, form.support_network, form.question, actor, today
            )
        )
    except domain.AccessRuleBroken as exc:
        message = page.gettext(rule_message(exc))
        return render_page(page, principal, school_id, FormState(values, {"pupil_id": message}))
    return RedirectResponse(f"/schools/{school_id}/support-requests?notice=sent", status_code=303)


@form_post(router, "/schools/{school_id}/support-requests")
def send_support_request(
    page: PageDep, school_id: str, principal: PagePrincipal, values: Posted
) -> Response:
    return _send(page, principal, school_id, values)
