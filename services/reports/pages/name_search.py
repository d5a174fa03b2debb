"""CLB staff find a pupil by name among the pupils of the schools their CLB serves.

The reports service does not know who is enrolled where: it asks the access service
(`GET /v1/clbs/{clb_id}/pupils?name=`), which keeps the register of schools and a copy
of the enrolment register, as the signed-in person, with their own token."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from iris.insz import last_two_digits
from iris.ui import PagePrincipal, session_access_token
from iris.ui.i18n import gettext_for
from services.reports.deps import Deps, PagesDep
from services.reports.pages.forms import require_clb_staff

router = APIRouter(include_in_schema=False)


def callers_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return session_access_token(request)


def ask_each_clb(
    access_url: str, token: str, clb_ids: list[str], path: str, **params: str
) -> list[dict[str, Any]] | None:
    """The access service's answers to `/v1/clbs/{clb_id}<path>` for every CLB of the
    person, asked with their own token, joined; None when any answer fails."""
    found: list[dict[str, Any]] = []
    try:
        with httpx.Client(timeout=5.0) as client:
            for clb_id in clb_ids:
                answer = client.get(
                    f"{access_url}/v1/clbs/{clb_id}{path}",
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
                if answer.status_code != 200:
                    return None
                found.extend(answer.json())
    except httpx.HTTPError:
        return None
    return found


def pupils_named(
    access_url: str, token: str, clb_ids: list[str], name: str
) -> list[dict[str, Any]] | None:
    """The matches at every CLB of the person, or None when the access service fails."""
    return ask_each_clb(access_url, token, clb_ids, "/pupils", name=name)


def shown(match: dict[str, Any]) -> dict[str, str]:
    return {
        "href": f"/clb/pupils/{match['pupil_id']}",
        "name": f"{match['display_name']} ({last_two_digits(match['pupil_id'])})",
        "school": f"{match['school_name']} ({match['school_id']})",
    }


@router.get("/clb/find-by-name", response_class=HTMLResponse)
def find_by_name(
    request: Request, principal: PagePrincipal, pages: PagesDep, deps: Deps, name: str = ""
) -> Response:
    """Find a pupil by the name their school registered."""
    require_clb_staff(principal)
    _ = gettext_for(request).gettext
    typed = name.strip()[:100]
    errors: dict[str, str] = {}
    matches: list[dict[str, str]] | None = None
    token = callers_token(request)
    if len(typed) < 2:
        errors["name"] = _("Type at least two letters of the pupil's name.")
    elif token is None:
        errors["name"] = _("Finding by name is not possible now; find by national register number.")
    else:
        found = pupils_named(deps.access_url, token, sorted(principal.clb_staff_of), typed)
        if found is None:
            errors["name"] = _(
                "Finding by name is not possible now; find by national register number."
            )
        else:
            matches = [shown(m) for m in found]
    return pages.render(
        request,
        "clb_find.html",
        {
            "errors": errors,
            "values": {"insz": "", "name": name.strip()[:100]},
            "matches": matches,
        },
        status_code=422 if errors else 200,
    )


def registrations_of(
    access_url: str, token: str, clb_ids: list[str], pupil_id: str
) -> list[dict[str, Any]] | None:
    """Where the schools of the person's CLBs registered the pupil, or None when the access
    service fails."""
    return ask_each_clb(access_url, token, clb_ids, f"/pupils/{pupil_id}")
