"""What every page of the school responsible has: the school checked, the section's
frame (labels, notice, viewer link), form values and the sentences of broken rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iris.auth import Principal
from iris.errors import RuleBroken
from iris.ui import CsrfProtected, PagePrincipal
from iris.ui.dates import typed_date
from iris.ui.forms import MESSAGES
from iris.ui.i18n import N_, gettext_for
from iris.ui.labels import ROLE_LABELS
from iris.ui.pages import Pages
from services.access import service
from services.access.bootstrap import AccessDeps
from services.access.deps import Deps, PagesDep, responsible_at
from services.access.repository import AccessRepository
from services.access.schools import names_of

F = TypeVar("F", bound=Callable[..., Any])
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
NOTICES = {
    "granted": N_("The access is saved."),
    "revoked": N_("The access is revoked."),
    "approved": N_("The request is approved: the support worker has access."),
    "rejected": N_("The request is rejected."),
    "client-revoked": N_("The school software is revoked."),
}
RULE_MESSAGES = {
    "support_worker_too_long": N_(
        "A support worker's access ends at most 4 years after it starts."
    ),
    "ends_before_start": N_("The end date lies before the start date."),
    "ends_in_past": N_("The end date lies in the past."),
    "holds_another_role": N_("This person already holds another active role at this school."),
    "already_decided": N_("This request was already decided."),
    "mainstream_only": N_(
        "Only mainstream schools give support workers access: this school is registered "
        "as special education."
    ),
    "not_enrolled": N_("This pupil is not enrolled at this school."),
    "already_granted": N_(
        "This person already has access at this school. Change that access instead of "
        "granting it again."
    ),
    "not_active": N_(
        "This access was revoked or has ended and can no longer be changed. To give this "
        "person access again, grant access anew."
    ),
    "managed_by_scim": N_(
        "This access is kept by the school's user management. Change or remove it there; "
        "IRIS only shows it."
    ),
}
DATE_INVALID = MESSAGES["date_parsing"]


def rule_message(exc: RuleBroken) -> str:
    """The access rule that was broken, as a message to translate, chosen by its code."""
    return RULE_MESSAGES.get(exc.code, N_("This value is not valid."))


def form_values(form: Any) -> dict[str, str]:
    """The posted text fields; a field posted more than once (ticked boxes) one value per
    line."""
    return {
        k: "\n".join(v for v in form.getlist(k) if isinstance(v, str))
        for k in form.keys()
        if k != "csrf_token"
    }


def blank_to_none(value: Any) -> Any:
    return None if value is None or str(value).strip() == "" else value


def form_text(value: Any, missing: str, max_length: int) -> str:
    """A text field stripped, with the page's own message when it is empty (`missing`)."""
    text = str(value or "").strip()
    if not text:
        raise ValueError(missing)
    if len(text) > max_length:
        raise ValueError(N_("This text is too long."))
    return text


def form_date(value: Any) -> date | None:
    """A date field as posted (YYYY-MM-DD, or day/month/year as its picker shows it), None
    when left empty; the page's own message
    for anything else."""
    if isinstance(value, date) or blank_to_none(value) is None:
        return value or None
    try:
        return date.fromisoformat(str(typed_date(value)).strip())
    except ValueError:
        raise ValueError(DATE_INVALID) from None


def school_of(principal: Principal, school_id: str) -> str:
    """The acting responsible; 403 (a page) for anyone else, 404 for a malformed id."""
    if not SCHOOL_ID.match(school_id):
        raise HTTPException(404, "school_id: no such school")
    return responsible_at(principal, school_id)


def _school_responsible(principal: PagePrincipal, school_id: str) -> str:
    return school_of(principal, school_id)


SchoolResponsible = Annotated[str, Depends(_school_responsible)]
"""The signed-in responsible of the page's school (their INSZ), else 403 or 404."""


@dataclass(frozen=True)
class FormState:
    """A page's form as shown: the values posted (or the blanks), the sentence next to
    each field that was refused, and the status: 422 once anything was refused."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def status_code(self) -> int:
        return 422 if self.errors else 200


@dataclass
class Page:
    """One request to a page of the school responsible, with what rendering it needs."""

    request: Request
    pages: Pages
    deps: AccessDeps

    def gettext(self, message: str) -> str:
        return gettext_for(self.request).gettext(message)

    def labels(self) -> dict[str, Any]:
        _ = self.gettext
        return {
            "role_labels": {k: _(v) for k, v in ROLE_LABELS.items()},
            "status_labels": {k: _(v) for k, v in STATUS_LABELS.items()},
            "request_status_labels": {k: _(v) for k, v in REQUEST_STATUS_LABELS.items()},
        }

    @property
    def viewer_url(self) -> str:
        return self.deps.settings.viewer_url.rstrip("/")

    def confirm_revoke(self, label: str, question: str, item_url: str) -> HTMLResponse:
        """The page asking to confirm revoking the item at `item_url`: its form posts to
        `item_url`/revoke, its way back is the list the item is in."""
        return self.pages.confirm(
            self.request,
            title=label,
            question=question,
            action=f"{item_url}/revoke",
            confirm_label=label,
            cancel_url=item_url.rsplit("/", 1)[0],
        )

    def waiting(self, school_id: str) -> int:
        """How many access requests wait for the responsible: the count in their menu."""
        with self.deps.reading() as repo:
            return len(service.requests_at(repo, school_id, "pending"))

    def school_names(self, school_id: str) -> dict[str, str]:
        """The school's name in the register of schools, where it has one (for the
        shared school_names.html macros)."""
        with self.deps.sessions() as session:
            return names_of(session, [school_id])

    def render(
        self,
        template: str,
        school_id: str,
        section: str,
        values: dict[str, Any],
        status_code: int = 200,
    ) -> HTMLResponse:
        notice = self.request.query_params.get("notice", "")
        return self.pages.render(
            self.request,
            template,
            {
                "school_id": school_id,
                "school_names": self.school_names(school_id),
                "section": section,
                "viewer_url": self.viewer_url,
                "waiting": self.waiting(school_id),
                "notice": self.gettext(NOTICES[notice]) if notice in NOTICES else "",
                **self.labels(),
                **values,
            },
            status_code=status_code,
        )


def _page(request: Request, pages: PagesDep, deps: Deps) -> Page:
    return Page(request, pages, deps)


PageDep = Annotated[Page, Depends(_page)]


async def _posted(request: Request) -> dict[str, str]:
    return form_values(await request.form())


Posted = Annotated[dict[str, str], Depends(_posted)]
"""The posted form's text fields, without the CSRF token."""


def form_post(router: APIRouter, path: str) -> Callable[[F], F]:
    """A page's form POST: CSRF-checked, answered with a page or a redirect."""
    return router.post(path, response_class=HTMLResponse, dependencies=[CsrfProtected])


def revoke_post(
    router: APIRouter,
    path: str,
    change: Callable[[AccessRepository, str, str, str], Any],
    notice: str,
) -> None:
    """The form POST at `path` (`/schools/{school_id}/<list>/{<item>}/revoke`) that a
    revoke's confirm page sends: `change(repository, school_id, item, actor)`, then the
    list with `notice`."""
    item = path.split("/")[-2].strip("{}")

    def revoke(page: PageDep, school_id: str, actor: SchoolResponsible) -> Response:
        item_id = page.request.path_params[item]
        page.deps.write(lambda repo: change(repo, school_id, item_id, actor))
        list_url = path.rsplit("/", 2)[0].replace("{school_id}", school_id)
        return RedirectResponse(f"{list_url}?notice={notice}", status_code=303)

    revoke.__name__ = revoke.__qualname__ = f"revoke_{item.removesuffix('_id')}"
    form_post(router, path)(revoke)
