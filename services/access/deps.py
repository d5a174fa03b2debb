"""What the access service's routes and pages ask for, as FastAPI dependencies, and who
may do what."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from iris.auth import Principal, TokenVerifier
from iris.insz import InstitutionNumber
from iris.ui.pages import Pages
from iris.web import CurrentPrincipal, bearer_principal
from services.access.bootstrap import AccessDeps
from services.access.repository import AccessRepository


def _deps(request: Request) -> AccessDeps:
    deps: AccessDeps = request.app.state.access
    return deps


Deps = Annotated[AccessDeps, Depends(_deps)]


def _today(deps: Deps) -> date:
    return deps.today()


Today = Annotated[date, Depends(_today)]


def _repository(deps: Deps) -> Iterator[AccessRepository]:
    with deps.reading() as repo:
        yield repo


Repository = Annotated[AccessRepository, Depends(_repository)]
"""The register for reading, on a session closed after the request."""


def _pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


PagesDep = Annotated[Pages, Depends(_pages)]

SchoolId = Annotated[InstitutionNumber, Path()]
ClientId = Annotated[str, Path(max_length=64)]


def responsible_at(principal: Principal, school_id: str) -> str:
    """The acting responsible's INSZ; 403 for anyone who is not this school's responsible."""
    if not principal.is_person or school_id not in principal.school_admin_of:
        raise HTTPException(403, "school_id: you are not the responsible of this school")
    return principal.subject


def _school_responsible(principal: CurrentPrincipal, school_id: SchoolId) -> str:
    return responsible_at(principal, school_id)


ActingResponsible = Annotated[str, Depends(_school_responsible)]
"""The acting responsible of the path's school (their INSZ), else 403."""


def _internal_verifier(request: Request) -> TokenVerifier:
    return _deps(request).internal_verifier


async def _viewer_service(
    principal: Annotated[Principal, Depends(bearer_principal(_internal_verifier))],
) -> Principal:
    """The viewer's service identity (token for the internal audience), else 403."""
    if principal.service != "viewer":
        raise HTTPException(403, "authorization: only the viewer's service identity")
    return principal


ViewerService = Annotated[Principal, Depends(_viewer_service)]
"""The viewer calling an internal route with its service token, else 401 or 403."""
