"""A home page any service can mount: who is signed in, with what roles, and sign-out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from iris.auth import Principal
from iris.insz import mask_insz
from iris.ui.i18n import N_, gettext_for
from iris.ui.pages import Pages
from iris.ui.session import OptionalPrincipal

ROLE_NAMES = {
    "school_admin_of": N_("School responsible at %(place)s"),
    "clb_staff_of": N_("CLB staff at %(place)s"),
    "parent_of": N_("Parent of pupil %(place)s"),
}


def roles_of(principal: Principal, request: Request) -> list[str]:
    """The roles a person's sign-in token names, in the request's language."""
    _ = gettext_for(request).gettext
    roles = []
    for claim, message in ROLE_NAMES.items():
        for place in sorted(getattr(principal, claim)):
            shown = mask_insz(place) if claim == "parent_of" else place
            roles.append(_(message) % {"place": shown})
    return roles


def home_router(pages: Pages) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse, name="home")
    def home(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
        """Who is signed in, or an invitation to sign in."""
        roles = roles_of(principal, request) if principal else []
        return pages.render(request, "home.html", {"roles": roles})

    return router
