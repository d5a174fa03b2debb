"""Access HTTP API and pages: a school's responsible manages its grants, access requests
and school-software clients; support networks file requests; clients exchange their
credentials for short-lived tokens. Grants whose period passes are expired here too.

The routes live in `routes/` and `pages/`; this module only wires them to one
`AccessDeps` (`bootstrap.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from iris.clock import Clock
from iris.settings import Settings
from iris.web import create_base_app
from services.access.bootstrap import SERVICE, AccessDeps, bootstrap
from services.access.expiry import expire_periodically
from services.access.notifications import install_notifications
from services.access.pages import install_access_pages
from services.access.routes import (
    audit,
    clb,
    clients,
    frame_origins,
    grants,
    launch_tickets,
    network_clients,
    requests,
    school_names,
    scim,
    support,
    tokens,
)

ROUTERS = [
    grants.router,
    requests.router,
    clients.router,
    tokens.router,
    audit.router,
    support.router,
    clb.router,
    frame_origins.router,
    launch_tickets.router,
    network_clients.router,
    scim.router,
    school_names.router,
]


def running(deps: AccessDeps) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the outbox publisher and the periodic grant expiry."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with deps.store.running():
            expiry = asyncio.create_task(expire_periodically(deps))
            try:
                yield
            finally:
                expiry.cancel()
                await asyncio.gather(expiry, return_exceptions=True)

    return lifespan


def create_app(
    settings: Settings | None = None, clock: Clock | None = None, deps: AccessDeps | None = None
) -> FastAPI:
    """The access app on `deps` when the caller wired them (a test keeps them to move the
    clock or run the expiry), else on `bootstrap(settings, clock)`."""
    deps = deps or bootstrap(settings, clock)
    deps.signing_key  # noqa: B018 -- a missing key stops the service at start, not at a token
    app = create_base_app(
        SERVICE,
        readiness=[("database", deps.store.database_ready)],
        max_body_bytes=deps.settings.max_body_bytes,
        lifespan=running(deps),
    )
    app.state.access = deps  # services.access.deps
    app.state.verifier = deps.verifier  # iris.web's and iris.ui's token checks
    app.state.sessions = deps.sessions  # iris.web's DbSession
    app.state.metrics_hooks = [deps.store.update_metrics]
    install_access_pages(app, deps.settings)
    for router in ROUTERS:
        app.include_router(router)
    install_notifications(app, deps.sessions)
    return app
