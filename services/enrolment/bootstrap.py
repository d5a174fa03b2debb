"""Wires the enrolment service once: its settings, store (database and outbox relay),
clock and token verifier, for the app (`api.create_app`), the worker (`worker.py`) and
the tests alike."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from iris.auth import TokenVerifier, verifier_for
from iris.settings import Settings
from iris.store import ServiceStore
from services.enrolment.models import Outbox
from services.enrolment.repository import EnrolmentRepository, SqlEnrolmentRepository
from services.enrolment.service import belgian_today

SERVICE = "enrolment"

T = TypeVar("T")


@dataclass
class Dependencies:
    settings: Settings
    store: ServiceStore
    clock: Callable[[], date]
    verifier: TokenVerifier

    def write(self, change: Callable[[EnrolmentRepository], T]) -> T:
        """Run a use case in one transaction (again when two first registrations raced:
        the loser reads the winner), then wake the outbox relay."""
        return self.store.write_to(SqlEnrolmentRepository, change)

    def read(self, query: Callable[[EnrolmentRepository], T]) -> T:
        return self.store.read_from(SqlEnrolmentRepository, query)


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
