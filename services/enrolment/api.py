"""The enrolment service's app: school software registers and ends enrolments at its
own school (`routes/enrolments.py`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi import FastAPI

from iris.service_app import create_service_app
from iris.settings import Settings
from services.enrolment.bootstrap import SERVICE, Dependencies, bootstrap
from services.enrolment.routes import enrolments


def create_app(
    settings: Settings | None = None,
    today: Callable[[], date] | None = None,
    deps: Dependencies | None = None,
) -> FastAPI:
    return create_service_app(
        SERVICE, deps or bootstrap(settings, today), routers=[enrolments.router]
    )
