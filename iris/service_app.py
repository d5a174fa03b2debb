"""The app of a service that keeps a database: its lifespan runs the outbox relay, its
readiness asks the database, and its dependencies (`bootstrap.py`) hang on the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI

from iris.auth import TokenVerifier
from iris.settings import Settings
from iris.store import ServiceStore
from iris.web import ReadinessCheck, create_base_app


class ServiceDependencies(Protocol):
    settings: Settings
    store: ServiceStore
    verifier: TokenVerifier


def create_service_app(
    service: str,
    deps: ServiceDependencies,
    readiness: list[tuple[str, ReadinessCheck]] | None = None,
    metrics_hooks: list[Callable[[], Awaitable[None]]] | None = None,
    on_close: Callable[[], Awaitable[Any]] | None = None,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """`readiness`: checks before the database's; `metrics_hooks`: what refreshes the
    gauges before a scrape (default: the outbox's); `on_close`: run as the app stops;
    `routers`: the service's own routes."""
    store = deps.store

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with store.running():
            try:
                yield
            finally:
                if on_close is not None:
                    await on_close()

    app = create_base_app(
        service,
        readiness=[*(readiness or []), ("database", store.database_ready)],
        max_body_bytes=deps.settings.max_body_bytes,
        lifespan=lifespan,
    )
    app.state.deps = deps
    # read by iris.web's and iris.ui's dependencies
    app.state.verifier = deps.verifier
    app.state.sessions = store.sessions
    for router in routers:
        app.include_router(router)
    app.state.metrics_hooks = metrics_hooks or [store.update_metrics]
    return app
