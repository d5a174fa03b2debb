"""The school's software clients: register one (its secret shown once), revoke one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ConfigDict, ValidationError, field_validator

from iris.ui.forms import errors_by_field
from iris.ui.i18n import N_
from services.access import service
from services.access.pages.shared import (
    FormState,
    Page,
    PageDep,
    Posted,
    SchoolResponsible,
    form_post,
    form_text,
    revoke_post,
)
from services.access.routes.clients import ClientIn

router = APIRouter()

# The new client's secret waits in the (signed, HttpOnly) session for the one page that
# shows it after the redirect: a reload shows the list, registers nothing again.
NEW_CLIENT_KEY = "new_client"


class ClientForm(ClientIn):
    model_config = ConfigDict(extra="ignore")

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> str:
        return form_text(value, N_("Give the school software a name."), 200)


def clients_list(
    page: Page, school_id: str, form: FormState, created: dict[str, str] | None = None
) -> HTMLResponse:
    with page.deps.reading() as repo:
        clients = [
            {
                "client_id": r.client_id,
                "name": r.name,
                "status": r.status,
                "created_at": r.created_at,
            }
            for r in service.clients_at(repo, school_id)
        ]
    context = {"clients": clients, "values": form.values, "errors": form.errors, "created": created}
    return page.render("access_clients.html", school_id, "clients", context, form.status_code)


@router.get("/schools/{school_id}/clients", response_class=HTMLResponse)
def clients_page(page: PageDep, school_id: str, responsible: SchoolResponsible) -> HTMLResponse:
    """The school's software clients, and the form to register one; the secret of the
    client just registered, this once."""
    created = page.request.session.pop(NEW_CLIENT_KEY, None)
    if not isinstance(created, dict) or created.get("school_id") != school_id:
        created = None
    return clients_list(page, school_id, FormState({"name": ""}), created)


def register(page: Page, school_id: str, actor: str, values: dict[str, str]) -> Response:
    try:
        name = ClientForm.model_validate(values).name
    except ValidationError as exc:
        errors = errors_by_field(exc, page.request)
        return clients_list(page, school_id, FormState(values, errors))
    row, secret = page.deps.write(
        lambda repo: service.register_client(repo, school_id, name, actor)
    )
    page.request.session[NEW_CLIENT_KEY] = {
        "school_id": school_id,
        "client_id": row.client_id,
        "name": row.name,
        "secret": secret,
    }
    return RedirectResponse(f"/schools/{school_id}/clients", status_code=303)


@form_post(router, "/schools/{school_id}/clients")
def create_client(
    page: PageDep, school_id: str, actor: SchoolResponsible, values: Posted
) -> Response:
    return register(page, school_id, actor, {"name": "", **values})


revoke_post(
    router,
    "/schools/{school_id}/clients/{client_id}/revoke",
    service.revoke_client,
    "client-revoked",
)


@router.get("/schools/{school_id}/clients/{client_id}/revoke", response_class=HTMLResponse)
def revoke_client_page(
    page: PageDep, school_id: str, client_id: str, responsible: SchoolResponsible
) -> HTMLResponse:
    """Asks to confirm revoking school software."""
    with page.deps.reading() as repo:
        name = service.client_row(repo, school_id, client_id).name
    _ = page.gettext
    return page.confirm_revoke(
        _("Revoke school software"),
        _("Revoke %(name)s? Its secret will buy no more tokens.") % {"name": name},
        f"/schools/{school_id}/clients/{client_id}",
    )
