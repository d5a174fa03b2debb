"""The page where a signed-in person turns their daily e-mail digest off and on
(services/access/notifications.py; the JSON API's `/v1/me/notifications` does the same)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iris.ui import PagePrincipal
from iris.ui.i18n import N_
from services.access.notifications import choose, preference
from services.access.pages.shared import PageDep, Posted, form_post

router = APIRouter()

NOTICES = {
    "off": N_("The e-mails are stopped."),
    "on": N_("You will receive the e-mails again."),
}


def _person_only(principal: PagePrincipal) -> None:
    if not principal.is_person:
        raise HTTPException(403, "only people receive e-mail")


@router.get("/me/notifications", response_class=HTMLResponse)
def notifications_page(page: PageDep, principal: PagePrincipal) -> Response:
    """Whether IRIS e-mails this person, at which address, and the button to change it."""
    _person_only(principal)
    with page.deps.sessions() as session:
        chosen = preference(session, principal)
    notice = page.request.query_params.get("notice", "")
    return page.pages.render(
        page.request,
        "access_notifications.html",
        {
            "enabled": chosen.enabled,
            "email": chosen.email or principal.claims.get("email"),
            "notice": page.gettext(NOTICES[notice]) if notice in NOTICES else "",
        },
    )


@form_post(router, "/me/notifications")
def notifications_chosen(page: PageDep, principal: PagePrincipal, posted: Posted) -> Response:
    """Turn the digest off (`enabled=false`) or on (`enabled=true`)."""
    _person_only(principal)
    enabled = posted.get("enabled") == "true"
    with page.deps.sessions.begin() as session:
        choose(session, principal, enabled)
    notice = "on" if enabled else "off"
    return RedirectResponse(f"/me/notifications?notice={notice}", status_code=303)
