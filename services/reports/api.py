"""The reports service's app: CLB staff issue, withdraw and list a pupil's report versions
(`routes/reports.py`, `pages/`); the viewer alone reads the content of a pupil's current
report (`routes/internal.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from iris.settings import Settings
from iris.ui import install_pages
from iris.web import create_base_app
from services.reports import domain
from services.reports.bootstrap import SERVICE, Dependencies, bootstrap
from services.reports.pages import clb, name_search
from services.reports.routes import internal, reports

HERE = Path(__file__).parent


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], date] | None = None,
    deps: Dependencies | None = None,
) -> FastAPI:
    deps = deps or bootstrap(settings, clock)
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
    # read by iris.web's and iris.ui's dependencies
    app.state.verifier = deps.verifier
    app.state.sessions = store.sessions
    app.state.metrics_hooks = [store.update_metrics]

    @app.exception_handler(domain.ReportRuleBroken)
    async def _rule_broken(_request: Request, exc: domain.ReportRuleBroken) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status,
            content={"detail": [{"field": exc.field, "msg": exc.message}], "fields": [exc.field]},
        )

    app.include_router(reports.router)
    app.include_router(internal.router)
    install_pages(app, deps.settings, SERVICE, template_dirs=[HERE / "templates"], home=False)
    app.mount("/static/reports", StaticFiles(directory=str(HERE / "static")), name="reports-static")
    app.include_router(clb.router)
    app.include_router(name_search.router)
    return app
