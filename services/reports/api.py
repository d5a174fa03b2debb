"""The reports service's app: CLB staff issue, withdraw and list a pupil's report versions
(`routes/reports.py`, `pages/`); the viewer alone reads the content of a pupil's current
report (`routes/internal.py`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from iris.service_app import create_service_app
from iris.settings import Settings
from iris.ui import install_pages
from services.reports.bootstrap import SERVICE, Dependencies, bootstrap
from services.reports.pages import clb, name_search, withdrawal
from services.reports.routes import internal, reports

HERE = Path(__file__).parent


def create_app(
    settings: Settings | None = None,
    clock: Callable[[], date] | None = None,
    deps: Dependencies | None = None,
) -> FastAPI:
    deps = deps or bootstrap(settings, clock)
    app = create_service_app(SERVICE, deps, routers=[reports.router, internal.router])
    install_pages(app, deps.settings, SERVICE, template_dirs=[HERE / "templates"], home=False)
    app.mount("/static/reports", StaticFiles(directory=str(HERE / "static")), name="reports-static")
    app.include_router(clb.router)
    app.include_router(name_search.router)
    app.include_router(withdrawal.router)
    return app
