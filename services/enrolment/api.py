"""The enrolment service's app: school software registers and ends enrolments at its
own school (`routes/enrolments.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from iris.settings import Settings
from iris.web import create_base_app
from services.enrolment import domain
from services.enrolment.bootstrap import SERVICE, Dependencies, bootstrap
from services.enrolment.routes import enrolments


def create_app(
    settings: Settings | None = None,
    today: Callable[[], date] | None = None,
    deps: Dependencies | None = None,
) -> FastAPI:
    deps = deps or bootstrap(settings, today)
    store = deps.store

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with store.running():
            yield

    app = create_base_app(
        SERVICE,
        readiness=[("database", store.database_ready)],
        max_body_bytes=deps.settings.max_body_bytes,
        lifespan=lifespan,
    )
    app.state.deps = deps
    # read by iris.web's dependencies
    app.state.verifier = deps.verifier
    app.state.sessions = store.sessions
    app.state.metrics_hooks = [store.update_metrics]

    @app.exception_handler(domain.EnrolmentRuleBroken)
    async def _rule_broken(_request: Request, exc: domain.EnrolmentRuleBroken) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status,
            content={"detail": [{"field": exc.field, "msg": exc.message}], "fields": [exc.field]},
        )

    app.include_router(enrolments.router)
    return app
