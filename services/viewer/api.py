"""The viewer's app: the view-only report page (`routes/reports.py`), which pupils have a
current report (`routes/pupils.py`), who viewed a report (`routes/views.py`), who can see
it (`routes/visibility.py`), and the pages for people (`pages/`).

A route's principal comes from a bearer token, or for a browser from its session cookie
(`deps.StaffPrincipal`). Every check reads the authorisation cache in Redis and fails
closed: a missing cache, a cache not yet rebuilt or any Redis error denies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import Gauge

from iris.service_app import create_service_app
from iris.settings import Settings
from iris.ui import install_pages
from services.viewer.bootstrap import SERVICE, Dependencies, bootstrap, today
from services.viewer.cache import AuthCache, CacheNotReady
from services.viewer.embed import install_embedding
from services.viewer.pages import schools, views
from services.viewer.pages.common import cache_not_ready
from services.viewer.routes import pupils, reports, visibility
from services.viewer.routes import views as view_records
from services.viewer.security import SecurityHeaders

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
CACHE_READY = Gauge("iris_viewer_cache_ready", "1 when the authorisation cache is ready")

__all__ = ["create_app", "today"]


def create_app(
    settings: Settings | None = None,
    cache: AuthCache | None = None,
    clock: Callable[[], str] = today,
    deps: Dependencies | None = None,
) -> FastAPI:
    deps = deps or bootstrap(settings, cache, clock)

    async def cache_ready() -> str | None:
        try:
            return await deps.cache.readiness()
        except Exception:
            log.warning("authorisation cache unavailable", exc_info=True)
            return "authorisation cache unavailable"

    async def update_metrics() -> None:
        CACHE_READY.set(0 if await cache_ready() else 1)
        await deps.store.update_metrics()

    app = create_service_app(
        SERVICE,
        deps,
        readiness=[("authorisation cache", cache_ready)],
        metrics_hooks=[update_metrics],
        on_close=deps.close,
    )
    app.include_router(visibility.router)
    app.add_middleware(SecurityHeaders, embed_origins=list(deps.settings.embed_origins))
    install_pages(app, deps.settings, SERVICE, template_dirs=[HERE / "templates"], home=False)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_exception_handler(CacheNotReady, cache_not_ready)
    app.include_router(schools.router)
    app.include_router(views.router)
    app.include_router(reports.router)
    app.include_router(pupils.router)
    app.include_router(view_records.router)
    install_embedding(app, deps.settings, deps.reports.http)
    return app
