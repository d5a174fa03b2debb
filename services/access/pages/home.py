"""The home page and picking a school."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iris.auth import Principal
from iris.ui import OptionalPrincipal, PagePrincipal
from iris.ui.home import roles_of
from services.access import service
from services.access.pages.shared import Page, PageDep

router = APIRouter()


def support_links(page: Page, principal: Principal, day: date) -> list[tuple[str, str]]:
    """Care coordinators and pupil counsellors go on to their schools' support requests;
    everyone to their choice of the e-mail digest."""
    with page.deps.reading() as repo:
        schools = service.schools_sending_support_requests(repo, principal.subject, day)
    label = page.gettext("Support requests of school %(school)s")
    links = [
        (f"/schools/{school}/support-requests", label % {"school": school}) for school in schools
    ]
    return [*links, ("/me/notifications", page.gettext("E-mail notifications"))]


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(page: PageDep, principal: OptionalPrincipal) -> Response:
    """A school responsible goes to their school; anyone else sees who they are."""
    if principal is not None and principal.is_person and principal.school_admin_of:
        return RedirectResponse("/schools", status_code=303)
    request: Request = page.request
    roles = roles_of(principal, request) if principal else []
    links = support_links(page, principal, page.deps.today()) if principal else []
    return page.pages.render(request, "home.html", {"roles": roles, "links": links})


@router.get("/schools", response_class=HTMLResponse)
def schools_page(page: PageDep, principal: PagePrincipal) -> Response:
    """The schools this person is responsible for; straight on when there is one."""
    schools = sorted(principal.school_admin_of) if principal.is_person else []
    if len(schools) == 1:
        return RedirectResponse(f"/schools/{schools[0]}/grants", status_code=303)
    return page.pages.render(page.request, "access_schools.html", {"schools": schools})
