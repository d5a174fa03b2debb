"""The viewer's FastAPI dependencies: what a route may ask for by its type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from iris.auth import Principal
from iris.insz import InstitutionNumber
from iris.ui.pages import Pages, wants_html
from iris.ui.session import (
    api_or_session_principal,
    optional_principal,
    page_principal,
    principal_known,
)
from services.viewer.bootstrap import Dependencies


def dependencies(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.deps
    return deps


def pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


async def staff_principal(request: Request) -> Principal:
    """A browser without a session is sent to sign in; an API caller gets 401."""
    if not principal_known(request):
        # a token not verified lately: verify it in a worker thread (keys may be fetched)
        await run_in_threadpool(optional_principal, request)
    if wants_html(request):
        return page_principal(request)
    return api_or_session_principal(request)


Deps = Annotated[Dependencies, Depends(dependencies)]
PagesDep = Annotated[Pages, Depends(pages)]
StaffPrincipal = Annotated[Principal, Depends(staff_principal)]
SchoolQuery = Annotated[InstitutionNumber | None, Query()]
