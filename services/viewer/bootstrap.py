"""Wires the viewer once: its settings, store (the views record and the audit outbox),
clock, authorisation cache, token verifier, and the client of the reports service's
content API, for the app (`api.create_app`) and the tests alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx

from iris.auth import TokenVerifier, verifier_for
from iris.settings import Settings
from iris.store import ServiceStore
from services.viewer.cache import AuthCache
from services.viewer.content import ContentCache, ReportsClient
from services.viewer.models import Outbox
from services.viewer.recording import AuditRecorder
from services.viewer.reports_token import ServiceToken
from services.viewer.repository import SqlViewerRepository, ViewerRepository

SERVICE = "viewer"
BRUSSELS = ZoneInfo("Europe/Brussels")
T = TypeVar("T")


def today() -> str:
    """The date in Belgium: enrolments, grants and reports start and end on Belgian dates."""
    return datetime.now(BRUSSELS).date().isoformat()


@dataclass
class Dependencies:
    settings: Settings
    store: ServiceStore
    clock: Callable[[], str]  # today, as an ISO date: what the cache compares
    cache: AuthCache
    verifier: TokenVerifier
    reports: ReportsClient
    contents: ContentCache
    recorder: AuditRecorder

    def read(self, query: Callable[[ViewerRepository], T]) -> T:
        return self.store.read_from(SqlViewerRepository, query)

    async def close(self) -> None:
        await self.reports.close()
        await self.cache.close()


def bootstrap(
    settings: Settings | None = None,
    cache: AuthCache | None = None,
    clock: Callable[[], str] = today,
) -> Dependencies:
    settings = settings or Settings()
    store = ServiceStore.open(SERVICE, settings, Outbox)
    http = httpx.AsyncClient(timeout=5.0)
    return Dependencies(
        settings=settings,
        store=store,
        clock=clock,
        cache=cache or AuthCache.from_url(settings.redis_url),
        verifier=verifier_for(settings),
        reports=ReportsClient(settings.reports_url, http, ServiceToken(settings, http)),
        contents=ContentCache(),
        recorder=AuditRecorder(store.sessions, store.relay.notify),
    )
