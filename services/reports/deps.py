"""The reports service's FastAPI dependencies: what a route may ask for by its type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from iris.auth import Principal, TokenVerifier
from iris.ui import Pages
from iris.web import bearer_principal
from services.reports.bootstrap import Dependencies


def dependencies(request: Request) -> Dependencies:
    deps: Dependencies = request.app.state.deps
    return deps


def internal_verifier(request: Request) -> TokenVerifier:
    return dependencies(request).internal_verifier


def pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


Deps = Annotated[Dependencies, Depends(dependencies)]
ServicePrincipal = Annotated[Principal, Depends(bearer_principal(internal_verifier))]
PagesDep = Annotated[Pages, Depends(pages)]
