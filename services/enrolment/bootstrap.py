"""Wires the enrolment service once: its settings, store (database and outbox relay),
clock and token verifier, for the app (`api.create_app`), the worker (`worker.py`) and
the tests alike."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from datetime import date
from typing import TypeVar

from iris.auth import verifier_for
from iris.bootstrap import RegisterDependencies
from iris.settings import Settings
from iris.store import ServiceStore
from services.enrolment.models import Outbox
from services.enrolment.repository import EnrolmentRepository, SqlEnrolmentRepository
from services.enrolment.service import belgian_today

SERVICE = "enrolment"

T = TypeVar("T")


class Dependencies(RegisterDependencies[EnrolmentRepository]):
    repository = SqlEnrolmentRepository


def bootstrap(
    settings: Settings | None = None,
    clock: Callable[[], date] | None = None,
    remember_tokens: int = 4096,
    relay_executor: Executor | None = None,
) -> Dependencies:
    """`remember_tokens`: how many verified tokens the verifier keeps (never past their
    expiry); `relay_executor`: where the outbox relay runs its transactions."""
    settings = settings or Settings()
    return Dependencies(
        settings=settings,
        store=ServiceStore.open(SERVICE, settings, Outbox, relay_executor=relay_executor),
        clock=clock or belgian_today,
        verifier=verifier_for(settings, remember_at_most=remember_tokens),
    )
