"""What a service that serves its callers from its own register wires once (enrolment,
reports): settings, store, the Brussels day and the verifier of callers' tokens, with the
store's SQL repository handed to each use case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Generic, TypeVar

from iris.auth import TokenVerifier
from iris.settings import Settings
from iris.store import ServiceStore

R = TypeVar("R")
T = TypeVar("T")


@dataclass
class RegisterDependencies(Generic[R]):
    settings: Settings
    store: ServiceStore
    clock: Callable[[], date]
    verifier: TokenVerifier
    repository: ClassVar[type[Any]]  # the SQL adapter of the service's repository port

    def write(self, change: Callable[[R], T]) -> T:
        """Run a use case in one transaction (again when it lost a race on a unique key, as
        two first registrations or issues for one pupil may), then wake the outbox relay."""
        return self.store.write_to(self.repository, change)

    def read(self, query: Callable[[R], T]) -> T:
        return self.store.read_from(self.repository, query)
