"""The school's grants: the list, the form to grant or change, the revoke."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ConfigDict, ValidationError, ValidationInfo, field_validator

from iris.insz import insz_digits, is_valid_insz, mask_insz
from iris.ui.forms import errors_by_field, insz_field
from iris.ui.i18n import N_
from iris.ui.labels import ROLE_LABELS
from services.access import domain, service
from services.access.pages.grant_people import (
    grant_row_view,
    known_person,
    names_at,
    people_named,
    pupil_choices,
)
from services.access.pages.shared import (
    RULE_MESSAGES,
    STATUS_LABELS,
    Page,
    PageDep,
    Posted,
    SchoolResponsible,
    blank_to_none,
    form_date,
    form_post,
    revoke_post,
    rule_message,
)
from services.access.routes.grants import GrantIn, save_grant

router = APIRouter()

PUPILS_INVALID = N_(
    "Enter national register numbers of 11 digits, one per line or separated by commas."
)
NO_PUPIL_TICKED = N_("Tick at least one pupil, or give access to the whole school.")


def split_pupils(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


class GrantForm(GrantIn):
    """The API's grant as a form posts it: every value a string, pupils one text."""

    model_config = ConfigDict(extra="ignore")

    @field_validator("person_id", mode="before")
    @classmethod
    def _person(cls, value: Any) -> str:
        return insz_field(value)

    @field_validator("valid_from", "valid_until", mode="before")
    @classmethod
    def _dates(cls, value: Any, info: ValidationInfo) -> Any:
        """A typed day; only the end may be left empty (no end date)."""
        if info.field_name == "valid_from" and blank_to_none(value) is None:
            raise ValueError(N_("This field is required."))
        return form_date(value)

    @field_validator("pupil_ids", mode="before")
    @classmethod
    def _pupils(cls, value: Any) -> list[str] | None:
        pupils = [insz_digits(p) for p in split_pupils(str(value or ""))]
        if not pupils:
            return None
        if len(pupils) > 2000 or not all(is_valid_insz(p) for p in pupils):
            raise ValueError(PUPILS_INVALID)
        return pupils


def existing_grant(page: Page, school_id: str, grant_id: str) -> dict[str, Any]:
    with page.deps.reading() as repo:
        grant = service.grant_at(repo, school_id, grant_id)
    with page.deps.sessions() as session:
        return grant_row_view(grant, names_at(session, school_id))


@router.get("/schools/{school_id}/grants", response_class=HTMLResponse)
def grants_page(page: PageDep, school_id: str, responsible: SchoolResponsible) -> HTMLResponse:
    """The school's grants, filtered by role and status."""
    role = page.request.query_params.get("role") or None
    status = page.request.query_params.get("status") or None
    role = role if role in ROLE_LABELS else None
    status = status if status in STATUS_LABELS else None
    with page.deps.reading() as repo:
        grants = service.grants_at(repo, school_id, role, status)
    with page.deps.sessions() as session:
        names = names_at(session, school_id)
    grants.sort(key=lambda g: names.person(g.person_id).casefold())
    values = {
        "grants": [grant_row_view(g, names) for g in grants],
        "role": role or "",
        "status": status or "",
    }
    return page.render("access_grants.html", school_id, "grants", values)


def grant_form(
    page: Page,
    school_id: str,
    values: dict[str, str],
    errors: dict[str, str],
    grant: dict[str, Any] | None = None,
    status_code: int = 200,
    existing: dict[str, Any] | None = None,
    found: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    """The form to grant (`grant` None) or to change `grant`; `existing` is the access the
    person already holds, shown when "grant" would have replaced it; `found`, the people
    a name search found."""
    chosen = [insz_digits(p) for p in split_pupils(values.get("pupil_ids", ""))]
    person = insz_digits(values.get("person_id", ""))
    with page.deps.sessions() as session:
        pupils = pupil_choices(session, school_id, chosen, page.deps.today())
    scope = values.get("scope") or ("pupils" if chosen else "school")
    context = {
        "values": values,
        "errors": errors,
        "grant": grant,
        "existing": existing,
        "pupil_choices": pupils,
        "scope": scope,
        "found": found,
        "person_masked": mask_insz(person) if is_valid_insz(person) else "",
    }
    return page.render("access_grant_form.html", school_id, "grants", context, status_code)


def refused(
    page: Page,
    school_id: str,
    values: dict[str, str],
    grant: dict[str, Any] | None,
    exc: domain.AccessRuleBroken,
    person_id: str,
) -> HTMLResponse:
    """The form again with the broken rule next to its field; when the person already has
    access, what they have and the way to change it."""
    errors = {exc.field: page.gettext(rule_message(exc))}
    existing = None
    if exc.code == "already_granted":
        with page.deps.reading() as repo:
            held = repo.grant_of_person(school_id, person_id)
        with page.deps.sessions() as session:
            names = names_at(session, school_id)
        existing = grant_row_view(held, names) if held is not None else None
    return grant_form(page, school_id, values, errors, grant, exc.status, existing)


def save(
    page: Page,
    school_id: str,
    actor: str,
    values: dict[str, str],
    grant: dict[str, Any] | None,
) -> Response:
    """Save the posted form: a new grant (never replacing a running one) or a change of
    `grant` (only while it is active)."""
    errors: dict[str, str] = {}
    if values.get("scope") == "school":
        values = {**values, "pupil_ids": ""}
    elif values.get("scope") == "pupils" and not split_pupils(values.get("pupil_ids", "")):
        errors["pupil_ids"] = page.gettext(NO_PUPIL_TICKED)
    try:
        form = GrantForm.model_validate(values)
    except ValidationError as exc:
        errors = {**errors_by_field(exc, page.request), **errors}
    if errors:
        return grant_form(page, school_id, values, errors, grant, 422)
    intent: domain.GrantIntent = "new" if grant is None else "change"
    try:
        save_grant(page.deps, school_id, form, actor, intent)
    except domain.AccessRuleBroken as exc:
        return refused(page, school_id, values, grant, exc, form.person_id)
    return RedirectResponse(f"/schools/{school_id}/grants?notice=granted", status_code=303)


@router.get("/schools/{school_id}/grants/new", response_class=HTMLResponse)
def new_grant_page(page: PageDep, school_id: str, responsible: SchoolResponsible) -> HTMLResponse:
    """The form to grant a person access: the person found by name among the people the
    school's grants name (`find`), chosen (`known`, a grant of theirs), or typed."""
    values = {"role": "teacher", "valid_from": page.deps.today().isoformat()}
    query = page.request.query_params
    with page.deps.sessions() as session:
        known = known_person(session, school_id, query.get("known", ""))
        found = people_named(session, school_id, query.get("find", "")[:100])
    if known is not None:
        values.update(person_id=known["person_id"], person_name=known["person_name"])
        values["known"] = query.get("known", "")
    if "find" in query:
        values["find"] = query.get("find", "")[:100]
    return grant_form(page, school_id, values, {}, found=found if "find" in query else None)


@form_post(router, "/schools/{school_id}/grants/new")
def new_grant(page: PageDep, school_id: str, actor: SchoolResponsible, values: Posted) -> Response:
    return save(page, school_id, actor, values, None)


@router.get("/schools/{school_id}/grants/{grant_id}/edit", response_class=HTMLResponse)
def edit_grant_page(
    page: PageDep, school_id: str, grant_id: str, responsible: SchoolResponsible
) -> HTMLResponse:
    """The form to change a grant: role, dates, pupils; a grant no longer active says so."""
    grant = existing_grant(page, school_id, grant_id)
    values = {
        "person_id": grant["person_id"],
        "person_name": "",
        "role": grant["role"],
        "valid_from": grant["valid_from"],
        "valid_until": grant["valid_until"] or "",
        "pupil_ids": "\n".join(grant["pupils"] or []),
    }
    errors = {}
    if grant["status"] != "active":
        errors["grant_id"] = page.gettext(RULE_MESSAGES["not_active"])
    elif grant["source"] == "scim":
        errors["grant_id"] = page.gettext(RULE_MESSAGES["managed_by_scim"])
    return grant_form(page, school_id, values, errors, grant)


@form_post(router, "/schools/{school_id}/grants/{grant_id}/edit")
def edit_grant(
    page: PageDep, school_id: str, grant_id: str, actor: SchoolResponsible, values: Posted
) -> Response:
    grant = existing_grant(page, school_id, grant_id)
    return save(page, school_id, actor, {**values, "person_id": grant["person_id"]}, grant)


@router.get("/schools/{school_id}/grants/{grant_id}/revoke", response_class=HTMLResponse)
def revoke_grant_page(
    page: PageDep, school_id: str, grant_id: str, responsible: SchoolResponsible
) -> HTMLResponse:
    """Asks to confirm the revoke (no JavaScript needed)."""
    grant = existing_grant(page, school_id, grant_id)
    _ = page.gettext
    return page.confirm_revoke(
        _("Revoke access"),
        _(
            "Revoke the access of %(person)s at school %(school)s? "
            "They lose sight of every report at once.",
        )
        % {"person": grant["person"], "school": school_id},
        f"/schools/{school_id}/grants/{grant_id}",
    )


revoke_post(router, "/schools/{school_id}/grants/{grant_id}/revoke", service.revoke, "revoked")
