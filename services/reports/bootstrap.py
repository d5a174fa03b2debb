"""Wires the reports service once: its settings, store (database and outbox relay),
clock and token verifiers, for the app (`api.create_app`) and the tests alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from iris.auth import TokenVerifier, verifier_for
from iris.bootstrap import RegisterDependencies
from iris.settings import Settings
from iris.store import ServiceStore
from services.reports.models import Outbox
from services.reports.repository import ReportRepository, SqlReportRepository

SERVICE = "reports"
BRUSSELS = ZoneInfo("Europe/Brussels")

T = TypeVar("T")


def today_in_brussels() -> date:
    return datetime.now(BRUSSELS).date()


@dataclass
class Dependencies(RegisterDependencies[ReportRepository]):
    # the viewer's service token has its own audience (`/internal` only)
    internal_verifier: TokenVerifier
    access_url: str
    repository = SqlReportRepository


def bootstrap(
    settings: Settings | None = None, clock: Callable[[], date] | None = None
) -> Dependencies:
    settings = settings or Settings()
    return Dependencies(
        settings=settings,
        # hide_parameters: a failing statement never carries report content into a log line
        store=ServiceStore.open(SERVICE, settings, Outbox, hide_parameters=True),
        clock=clock or today_in_brussels,
        verifier=verifier_for(settings),
        internal_verifier=verifier_for(settings, settings.internal_audience),
        access_url=settings.access_url.rstrip("/"),
    )
