"""The access service's parts, wired once: the store (database and outbox relay), the
clock, the settings, the token verifier and the client-token signing key. The app
(`services.access.api`), the worker and the tests each take one `AccessDeps`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from iris import clock as clocks
from iris.auth import SigningKey, TokenVerifier, verifier_for
from iris.clock import Clock
from iris.outbox import OutboxRelay
from iris.settings import Settings
from iris.store import ServiceStore
from services.access.models import Outbox
from services.access.repository import AccessRepository, SqlAccessRepository
from services.access.throttle import TokenThrottle

SERVICE = "access"
T = TypeVar("T")


@dataclass
class AccessDeps:
    settings: Settings
    store: ServiceStore
    clock: Clock

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.store.sessions

    @property
    def publisher(self) -> OutboxRelay:
        """Publishes the outbox to Kafka; `notify()` wakes it after a change."""
        return self.store.relay

    def today(self) -> date:
        return clocks.today(self.clock)

    def write(self, change: Callable[[AccessRepository], T]) -> T:
        """Run `change` in one transaction on the register, then wake the publisher."""
        return self.store.write(lambda session: change(SqlAccessRepository(session)))

    @contextmanager
    def reading(self) -> Iterator[AccessRepository]:
        with self.sessions() as session:
            yield SqlAccessRepository(session)

    @cached_property
    def verifier(self) -> TokenVerifier:
        return verifier_for(self.settings)

    @cached_property
    def internal_verifier(self) -> TokenVerifier:
        """Checks the tokens of the platform's own services (the internal audience)."""
        return verifier_for(self.settings, self.settings.internal_audience)

    @cached_property
    def signing_key(self) -> SigningKey:
        """The key of the client tokens this service issues."""
        settings = self.settings
        if settings.access_signing_key_file is not None:
            return SigningKey.from_pem(settings.access_signing_key_file.read_bytes())
        if settings.env == "production":
            raise RuntimeError("IRIS_ACCESS_SIGNING_KEY_FILE must name the key in production")
        return SigningKey.load_or_create(settings.data_dir / "access" / "signing-key.pem")

    @cached_property
    def throttle(self) -> TokenThrottle:
        return TokenThrottle(
            self.settings.token_attempts_per_minute,
            self.settings.token_failures_before_lockout,
            self.settings.token_lockout_seconds,
        )


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> AccessDeps:
    settings = settings or Settings()
    return AccessDeps(settings, ServiceStore.open(SERVICE, settings, Outbox), clock or clocks.now)
