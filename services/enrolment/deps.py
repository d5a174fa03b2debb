"""The enrolment service's FastAPI dependencies: what a route may ask for by its type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from iris.auth import Principal
from services.enrolment.bootstrap import Dependencies


def dependencies(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.deps
    return deps


def school_of_client(principal: Principal) -> str:
    """The school of the calling school-software client; 403 for anyone else (called in
    the route, after the request itself was validated)."""
    if principal.school_client_of is None:
        raise HTTPException(403, "only a school-software client of a school may use this API")
    return principal.school_client_of


Deps = Annotated[Dependencies, Depends(dependencies)]
