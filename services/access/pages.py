"""The school responsible's pages: grants, support-network requests, school-software
clients and the audit trail of their school.

Server-rendered with the shared look (`iris.ui`); every change is a form with the
session's CSRF token, and every destructive one asks to confirm on a page of its own.
The pages call the same use cases as the JSON API (`services.access.service`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy.orm import Session, sessionmaker

from iris.auth import Principal
from iris.insz import is_valid_insz, mask_insz
from iris.settings import Settings
from iris.ui import CsrfProtected, OptionalPrincipal, PagePrincipal, install_pages
from iris.ui.forms import errors_by_field
from iris.ui.home import roles_of
from iris.ui.i18n import N_, gettext_for
from iris.ui.labels import ROLE_LABELS
from iris.ui.pages import Pages
from services.access import domain, service

HERE = Path(__file__).parent
SCHOOL_ID = re.compile(r"^\d{1,12}$")

STATUS_LABELS = {
    "active": N_("Active"),
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
}
REQUEST_STATUS_LABELS = {
    "pending": N_("Pending"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
ACTION_LABELS = {
    "grant.created": N_("Access granted"),
    "grant.updated": N_("Access changed"),
    "grant.revoked": N_("Access revoked"),
    "grant.expired": N_("Access expired"),
    "request.filed": N_("Access requested"),
    "request.approved": N_("Request approved"),
    "request.rejected": N_("Request rejected"),
    "client.registered": N_("School software registered"),
    "client.revoked": N_("School software revoked"),
    "support.sent": N_("Support request sent"),
    "support.accepted": N_("Support request accepted by the network"),
    "support.declined": N_("Support request declined by the network"),
    "support.granted": N_("Support request: access granted"),
    "support.refused": N_("Support request: access refused"),
}
NOTICES = {
    "granted": N_("The access is saved."),
    "revoked": N_("The access is revoked."),
    "approved": N_("The request is approved: the support worker has access."),
    "rejected": N_("The request is rejected."),
    "client-revoked": N_("The school software is revoked."),
}
PUPILS_INVALID = N_(
    "Enter national register numbers of 11 digits, one per line or separated by commas."
)
PERSON_INVALID = N_("Enter a national register number of 11 digits.")


def rule_message(exc: domain.AccessRuleBroken) -> str:
    """The access rule that was broken, as a message to translate."""
    text = exc.message
    if text.startswith("a support_worker grant ends at most"):
        return N_("A support worker's access ends at most 4 years after it starts.")
    if text == "valid_until lies before valid_from":
        return N_("The end date lies before the start date.")
    if text == "valid_until lies in the past":
        return N_("The end date lies in the past.")
    if text.startswith("this person already holds an active"):
        return N_("This person already holds another active role at this school.")
    if text.startswith("this access request was already"):
        return N_("This request was already decided.")
    if text == domain.MAINSTREAM_ONLY:
        return N_(
            "Only mainstream schools give support workers access: this school is registered "
            "as special education."
        )
    return N_("This value is not valid.")


def split_pupils(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


class GrantForm(BaseModel):
    """The grant form as posted: every value a string."""

    model_config = ConfigDict(extra="ignore")

    person_id: str
    role: domain.Role
    valid_from: date
    valid_until: date | None = None
    pupil_ids: list[str] | None = None

    @field_validator("person_id", mode="before")
    @classmethod
    def _person(cls, value: Any) -> str:
        text = str(value or "").strip().replace(".", "").replace("-", "").replace(" ", "")
        if not text:
            raise ValueError(N_("This field is required."))
        if not is_valid_insz(text):
            raise ValueError(PERSON_INVALID)
        return text

    @field_validator("valid_from", mode="before")
    @classmethod
    def _from(cls, value: Any) -> Any:
        if value is None or str(value).strip() == "":
            raise ValueError(N_("This field is required."))
        return value

    @field_validator("valid_until", mode="before")
    @classmethod
    def _until(cls, value: Any) -> Any:
        return None if value is None or str(value).strip() == "" else value

    @field_validator("pupil_ids", mode="before")
    @classmethod
    def _pupils(cls, value: Any) -> list[str] | None:
        pupils = split_pupils(str(value or ""))
        if not pupils:
            return None
        if len(pupils) > 2000 or not all(is_valid_insz(p) for p in pupils):
            raise ValueError(PUPILS_INVALID)
        return pupils


class RejectForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    reason: str

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value:
            raise ValueError(N_("Give the reason the support network will read."))
        if len(value) > 1000:
            raise ValueError(N_("This text is too long."))
        return value


class ApproveForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    valid_until: date | None = None

    @field_validator("valid_until", mode="before")
    @classmethod
    def _until(cls, value: Any) -> Any:
        return None if value is None or str(value).strip() == "" else value


class ClientForm(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value:
            raise ValueError(N_("Give the school software a name."))
        if len(value) > 200:
            raise ValueError(N_("This text is too long."))
        return value


def form_values(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def grant_row_view(grant: domain.Grant) -> dict[str, Any]:
    return {
        "grant_id": str(grant.grant_id),
        "person_id": grant.person_id,
        "role": grant.role,
        "pupils": list(grant.pupil_ids) if grant.pupil_ids is not None else None,
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": (
            None if grant.valid_until == domain.OPEN_ENDED else grant.valid_until.isoformat()
        ),
        "status": grant.status,
    }


def install_access_pages(
    app: FastAPI,
    settings: Settings,
    service_name: str,
    sessions: sessionmaker[Session],
    write: Callable[[Callable[[Session], Any]], Any],
    today: Callable[[], date],
) -> Pages:
    pages = install_pages(
        app, settings, service_name, template_dirs=[HERE / "templates"], home=False
    )

    def translate(request: Request) -> Callable[[str], str]:
        return gettext_for(request).gettext

    def school_of(principal: Principal, school_id: str) -> str:
        """The acting responsible; 403 (a page) for anyone else, 404 for a malformed id."""
        if not SCHOOL_ID.match(school_id):
            raise HTTPException(404, "school_id: no such school")
        if not principal.is_person or school_id not in principal.school_admin_of:
            raise HTTPException(403, "school_id: you are not the responsible of this school")
        return principal.subject

    def labels(request: Request) -> dict[str, Any]:
        _ = translate(request)
        return {
            "role_labels": {k: _(v) for k, v in ROLE_LABELS.items()},
            "status_labels": {k: _(v) for k, v in STATUS_LABELS.items()},
            "request_status_labels": {k: _(v) for k, v in REQUEST_STATUS_LABELS.items()},
        }

    def render(
        request: Request,
        template: str,
        school_id: str,
        section: str,
        values: dict[str, Any],
        status_code: int = 200,
    ) -> HTMLResponse:
        _ = translate(request)
        notice = request.query_params.get("notice", "")
        return pages.render(
            request,
            template,
            {
                "school_id": school_id,
                "section": section,
                "viewer_url": settings.viewer_url.rstrip("/"),
                "notice": _(NOTICES[notice]) if notice in NOTICES else "",
                **labels(request),
                **values,
            },
            status_code=status_code,
        )

    # -- home and picking a school ---------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, principal: OptionalPrincipal) -> Response:
        """A school responsible goes to their school; anyone else sees who they are."""
        if principal is not None and principal.is_person and principal.school_admin_of:
            return RedirectResponse("/schools", status_code=303)
        roles = roles_of(principal, request) if principal else []
        links = support_links(request, principal, today()) if principal else []
        return pages.render(request, "home.html", {"roles": roles, "links": links})

    def support_links(request: Request, principal: Principal, day: date) -> list[tuple[str, str]]:
        """Care coordinators and pupil counsellors go on to their schools' support requests."""
        _ = translate(request)
        with sessions() as session:
            schools = service.schools_sending_support_requests(session, principal.subject, day)
        label = _("Support requests of school %(school)s")
        return [
            (f"/schools/{school}/support-requests", label % {"school": school})
            for school in schools
        ]

    @app.get("/schools", response_class=HTMLResponse)
    def schools_page(request: Request, principal: PagePrincipal) -> Response:
        """The schools this person is responsible for; straight on when there is one."""
        schools = sorted(principal.school_admin_of) if principal.is_person else []
        if len(schools) == 1:
            return RedirectResponse(f"/schools/{schools[0]}/grants", status_code=303)
        return pages.render(request, "access_schools.html", {"schools": schools})

    # -- grants ----------------------------------------------------------------------------

    def grants_list(request: Request, school_id: str, principal: Principal) -> HTMLResponse:
        school_of(principal, school_id)
        role = request.query_params.get("role") or None
        status = request.query_params.get("status") or None
        role = role if role in ROLE_LABELS else None
        status = status if status in STATUS_LABELS else None
        with sessions() as session:
            grants = service.grants_at(session, school_id, role, status)
        return render(
            request,
            "access_grants.html",
            school_id,
            "grants",
            {
                "grants": [grant_row_view(g) for g in grants],
                "role": role or "",
                "status": status or "",
            },
        )

    @app.get("/schools/{school_id}/grants", response_class=HTMLResponse)
    def grants_page(request: Request, school_id: str, principal: PagePrincipal) -> HTMLResponse:
        """The school's grants, filtered by role and status."""
        return grants_list(request, school_id, principal)

    def grant_form(
        request: Request,
        school_id: str,
        values: dict[str, str],
        errors: dict[str, str],
        grant: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        return render(
            request,
            "access_grant_form.html",
            school_id,
            "grants",
            {"values": values, "errors": errors, "grant": grant},
            status_code=status_code,
        )

    def save_grant(
        request: Request,
        school_id: str,
        actor: str,
        values: dict[str, str],
        grant: dict[str, Any] | None,
    ) -> Response:
        _ = translate(request)
        try:
            form = GrantForm.model_validate(values)
        except ValidationError as exc:
            errors = errors_by_field(exc, request)
            return grant_form(request, school_id, values, errors, grant, 422)
        try:
            write(
                lambda s: service.grant(
                    s,
                    school_id,
                    form.person_id,
                    form.role,
                    form.valid_from,
                    form.valid_until,
                    form.pupil_ids,
                    actor,
                    today(),
                )
            )
        except domain.AccessRuleBroken as exc:
            errors = {exc.field: _(rule_message(exc))}
            return grant_form(request, school_id, values, errors, grant, 422)
        return RedirectResponse(f"/schools/{school_id}/grants?notice=granted", status_code=303)

    @app.get("/schools/{school_id}/grants/new", response_class=HTMLResponse)
    def new_grant_page(request: Request, school_id: str, principal: PagePrincipal) -> HTMLResponse:
        """The form to grant a person access."""
        school_of(principal, school_id)
        values = {"role": "teacher", "valid_from": today().isoformat()}
        return grant_form(request, school_id, values, {})

    @app.post(
        "/schools/{school_id}/grants/new",
        response_class=HTMLResponse,
        dependencies=[CsrfProtected],
    )
    async def new_grant(request: Request, school_id: str, principal: PagePrincipal) -> Response:
        actor = school_of(principal, school_id)
        values = form_values(await request.form())
        return await run(save_grant, request, school_id, actor, values, None)

    def existing_grant(school_id: str, grant_id: str) -> dict[str, Any]:
        with sessions() as session:
            try:
                return grant_row_view(service.grant_row(session, school_id, grant_id).to_domain())
            except domain.AccessRuleBroken as exc:
                raise HTTPException(404, "grant_id: no such grant") from exc

    @app.get("/schools/{school_id}/grants/{grant_id}/edit", response_class=HTMLResponse)
    def edit_grant_page(
        request: Request, school_id: str, grant_id: str, principal: PagePrincipal
    ) -> HTMLResponse:
        """The form to change a grant: role, dates, pupils."""
        school_of(principal, school_id)
        grant = existing_grant(school_id, grant_id)
        values = {
            "person_id": grant["person_id"],
            "role": grant["role"],
            "valid_from": grant["valid_from"],
            "valid_until": grant["valid_until"] or "",
            "pupil_ids": "\n".join(grant["pupils"] or []),
        }
        return grant_form(request, school_id, values, {}, grant)

    @app.post(
        "/schools/{school_id}/grants/{grant_id}/edit",
        response_class=HTMLResponse,
        dependencies=[CsrfProtected],
    )
    async def edit_grant(
        request: Request, school_id: str, grant_id: str, principal: PagePrincipal
    ) -> Response:
        actor = school_of(principal, school_id)
        grant = await run(existing_grant, school_id, grant_id)
        values = {**form_values(await request.form()), "person_id": grant["person_id"]}
        return await run(save_grant, request, school_id, actor, values, grant)

    @app.get("/schools/{school_id}/grants/{grant_id}/revoke", response_class=HTMLResponse)
    def revoke_grant_page(
        request: Request, school_id: str, grant_id: str, principal: PagePrincipal
    ) -> HTMLResponse:
        """Asks to confirm the revoke (no JavaScript needed)."""
        school_of(principal, school_id)
        grant = existing_grant(school_id, grant_id)
        _ = translate(request)
        return pages.confirm(
            request,
            title=_("Revoke access"),
            question=_(
                "Revoke the access of %(person)s at school %(school)s? "
                "They lose sight of every report at once.",
            )
            % {"person": grant["person_id"], "school": school_id},
            action=f"/schools/{school_id}/grants/{grant_id}/revoke",
            confirm_label=_("Revoke access"),
            cancel_url=f"/schools/{school_id}/grants",
        )

    @app.post("/schools/{school_id}/grants/{grant_id}/revoke", dependencies=[CsrfProtected])
    def revoke_grant(school_id: str, grant_id: str, principal: PagePrincipal) -> Response:
        actor = school_of(principal, school_id)
        try:
            write(lambda s: service.revoke(s, school_id, grant_id, actor))
        except domain.AccessRuleBroken as exc:
            raise HTTPException(404, "grant_id: no such grant") from exc
        return RedirectResponse(f"/schools/{school_id}/grants?notice=revoked", status_code=303)

    # -- support-network requests ----------------------------------------------------------

    def request_view(row: Any) -> dict[str, Any]:
        return {
            "request_id": row.request_id,
            "support_network": row.support_network,
            "person_id": row.person_id,
            "pupils": json.loads(row.pupil_ids),
            "motivation": row.motivation,
            "status": row.status,
            "reason": row.reason,
            "created_at": row.created_at.strftime("%Y-%m-%d %H:%M"),
        }

    def requests_page_for(
        request: Request,
        school_id: str,
        errors: dict[str, dict[str, str]] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        with sessions() as session:
            rows = service.requests_at(session, school_id)
        pending = [request_view(r) for r in rows if r.status == "pending"]
        decided = [request_view(r) for r in rows if r.status != "pending"]
        return render(
            request,
            "access_requests.html",
            school_id,
            "requests",
            {"pending": pending, "decided": decided, "errors": errors or {}},
            status_code=status_code,
        )

    @app.get("/schools/{school_id}/requests", response_class=HTMLResponse)
    def requests_page(request: Request, school_id: str, principal: PagePrincipal) -> HTMLResponse:
        """Support-network requests: the pending ones to decide, the decided ones below."""
        school_of(principal, school_id)
        return requests_page_for(request, school_id)

    @app.post(
        "/schools/{school_id}/requests/{request_id}/approve",
        response_class=HTMLResponse,
        dependencies=[CsrfProtected],
    )
    async def approve_request(
        request: Request, school_id: str, request_id: str, principal: PagePrincipal
    ) -> Response:
        actor = school_of(principal, school_id)
        _ = translate(request)
        values = form_values(await request.form())
        try:
            form = ApproveForm.model_validate(values)
        except ValidationError as exc:
            errors = {request_id: errors_by_field(exc, request)}
            return await run(requests_page_for, request, school_id, errors, 422)
        try:
            until = form.valid_until
            await run(
                write, lambda s: service.approve(s, school_id, request_id, actor, today(), until)
            )
        except domain.AccessRuleBroken as exc:
            if exc.status == 404:
                raise HTTPException(404, "request_id: no such request") from exc
            field = "valid_until" if exc.field == "valid_until" else "decision"
            errors = {request_id: {field: _(rule_message(exc))}}
            return await run(requests_page_for, request, school_id, errors, 422)
        return RedirectResponse(f"/schools/{school_id}/requests?notice=approved", status_code=303)

    def reject_form(
        request: Request,
        school_id: str,
        request_id: str,
        values: dict[str, str],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> HTMLResponse:
        with sessions() as session:
            try:
                row = service.request_row(session, request_id, school_id)
            except domain.AccessRuleBroken as exc:
                raise HTTPException(404, "request_id: no such request") from exc
            item = request_view(row)
        return render(
            request,
            "access_reject.html",
            school_id,
            "requests",
            {"item": item, "values": values, "errors": errors},
            status_code=status_code,
        )

    @app.get("/schools/{school_id}/requests/{request_id}/reject", response_class=HTMLResponse)
    def reject_page(
        request: Request, school_id: str, request_id: str, principal: PagePrincipal
    ) -> HTMLResponse:
        """The form to reject a request, with the reason."""
        school_of(principal, school_id)
        return reject_form(request, school_id, request_id, {"reason": ""}, {})

    @app.post(
        "/schools/{school_id}/requests/{request_id}/reject",
        response_class=HTMLResponse,
        dependencies=[CsrfProtected],
    )
    async def reject_request(
        request: Request, school_id: str, request_id: str, principal: PagePrincipal
    ) -> Response:
        actor = school_of(principal, school_id)
        _ = translate(request)
        values = form_values(await request.form())
        values.setdefault("reason", "")
        try:
            form = RejectForm.model_validate(values)
        except ValidationError as exc:
            errors = errors_by_field(exc, request)
            return await run(reject_form, request, school_id, request_id, values, errors, 422)
        try:
            await run(write, lambda s: service.reject(s, school_id, request_id, form.reason, actor))
        except domain.AccessRuleBroken as exc:
            if exc.status == 404:
                raise HTTPException(404, "request_id: no such request") from exc
            errors = {"reason": _(rule_message(exc))}
            return await run(reject_form, request, school_id, request_id, values, errors, 422)
        return RedirectResponse(f"/schools/{school_id}/requests?notice=rejected", status_code=303)

    # -- school-software clients -----------------------------------------------------------

    def clients_page_for(
        request: Request,
        school_id: str,
        values: dict[str, str],
        errors: dict[str, str],
        created: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        with sessions() as session:
            rows = service.clients_at(session, school_id)
            clients = [
                {
                    "client_id": r.client_id,
                    "name": r.name,
                    "status": r.status,
                    "created_at": r.created_at.strftime("%Y-%m-%d %H:%M"),
                }
                for r in rows
            ]
        return render(
            request,
            "access_clients.html",
            school_id,
            "clients",
            {"clients": clients, "values": values, "errors": errors, "created": created},
            status_code=status_code,
        )

    @app.get("/schools/{school_id}/clients", response_class=HTMLResponse)
    def clients_page(request: Request, school_id: str, principal: PagePrincipal) -> HTMLResponse:
        """The school's software clients, and the form to register one."""
        school_of(principal, school_id)
        return clients_page_for(request, school_id, {"name": ""}, {})

    @app.post(
        "/schools/{school_id}/clients",
        response_class=HTMLResponse,
        dependencies=[CsrfProtected],
    )
    async def create_client(request: Request, school_id: str, principal: PagePrincipal) -> Response:
        actor = school_of(principal, school_id)
        values = form_values(await request.form())
        values.setdefault("name", "")
        try:
            form = ClientForm.model_validate(values)
        except ValidationError as exc:
            errors = errors_by_field(exc, request)
            return await run(clients_page_for, request, school_id, values, errors, None, 422)
        row, secret = await run(
            write, lambda s: service.register_client(s, school_id, form.name, actor)
        )
        created = {"client_id": row.client_id, "name": row.name, "secret": secret}
        response = await run(clients_page_for, request, school_id, {"name": ""}, {}, created)
        return response

    @app.get("/schools/{school_id}/clients/{client_id}/revoke", response_class=HTMLResponse)
    def revoke_client_page(
        request: Request, school_id: str, client_id: str, principal: PagePrincipal
    ) -> HTMLResponse:
        """Asks to confirm revoking school software."""
        school_of(principal, school_id)
        with sessions() as session:
            try:
                name = service.client_row(session, school_id, client_id).name
            except domain.AccessRuleBroken as exc:
                raise HTTPException(404, "client_id: no such client") from exc
        _ = translate(request)
        return pages.confirm(
            request,
            title=_("Revoke school software"),
            question=_("Revoke %(name)s? Its secret will buy no more tokens.") % {"name": name},
            action=f"/schools/{school_id}/clients/{client_id}/revoke",
            confirm_label=_("Revoke school software"),
            cancel_url=f"/schools/{school_id}/clients",
        )

    @app.post("/schools/{school_id}/clients/{client_id}/revoke", dependencies=[CsrfProtected])
    def revoke_client(school_id: str, client_id: str, principal: PagePrincipal) -> Response:
        actor = school_of(principal, school_id)
        try:
            write(lambda s: service.revoke_client(s, school_id, client_id, actor))
        except domain.AccessRuleBroken as exc:
            raise HTTPException(404, "client_id: no such client") from exc
        return RedirectResponse(
            f"/schools/{school_id}/clients?notice=client-revoked", status_code=303
        )

    # -- audit trail -----------------------------------------------------------------------

    @app.get("/schools/{school_id}/audit", response_class=HTMLResponse)
    def audit_page(request: Request, school_id: str, principal: PagePrincipal) -> HTMLResponse:
        """Every change at the school, newest first."""
        school_of(principal, school_id)
        _ = translate(request)
        with sessions() as session:
            rows = service.audit_at(session, school_id, 500)
            entries = [
                {
                    "at": r.at.strftime("%Y-%m-%d %H:%M:%S"),
                    "actor": r.actor if not r.actor.isdigit() else mask_insz(r.actor),
                    "action": _(ACTION_LABELS.get(r.action, r.action)),
                    "person_id": r.person_id or "",
                    "change": describe_change(r.before, r.after, request),
                }
                for r in rows
            ]
        return render(request, "access_audit.html", school_id, "audit", {"entries": entries})

    return pages


CHANGE_FIELDS = {
    "role": N_("Role"),
    "pupil_ids": N_("Pupils"),
    "valid_from": N_("From"),
    "valid_until": N_("Until"),
    "status": N_("Status"),
    "name": N_("Name"),
    "grant_id": N_("Access"),
}


def describe_change(before: str | None, after: str | None, request: Request) -> str:
    """What changed, as `field: old → new` for the fields that changed, translated."""
    _ = gettext_for(request).gettext
    old = json.loads(before) if before else {}
    new = json.loads(after) if after else {}
    parts = []
    for key in sorted(set(old) | set(new)):
        if key == "version" or old.get(key) == new.get(key):
            continue
        label = _(CHANGE_FIELDS[key]) if key in CHANGE_FIELDS else key
        now = _shown(key, new.get(key), _)
        if key not in old:
            parts.append(f"{label}: {now}")
        else:
            parts.append(f"{label}: {_shown(key, old[key], _)} → {now}")
    return "; ".join(parts)


def _shown(key: str, value: Any, _: Callable[[str], str]) -> str:
    if value is None:
        return _("Whole school") if key == "pupil_ids" else "-"
    if key == "valid_until" and value == domain.OPEN_ENDED.isoformat():
        return _("no end date")
    labels = {**ROLE_LABELS, **STATUS_LABELS, **REQUEST_STATUS_LABELS}
    if key in ("role", "status") and value in labels:
        return _(labels[value])
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


async def run(function: Callable[..., Any], *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)
