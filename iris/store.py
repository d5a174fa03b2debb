"""A service's database and its outbox relay: what every service's API holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from iris.db import make_engine, make_sessionmaker, transaction
from iris.outbox import OutboxMixin, OutboxRelay, backlog
from iris.retention import purge_periodically
from iris.settings import Settings
from iris.web import OUTBOX_BACKLOG, OUTBOX_PUBLISHED

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class ServiceStore:
    service: str
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    outbox: type[OutboxMixin]
    relay: OutboxRelay

    @classmethod
    def open(
        cls,
        service: str,
        settings: Settings,
        outbox: type[OutboxMixin],
        relay_executor: Executor | None = None,
        **engine_options: Any,
    ) -> ServiceStore:
        engine = make_engine(settings.database_url_for(service), **engine_options)
        sessions = make_sessionmaker(engine)
        relay = OutboxRelay(service, sessions, outbox, settings, executor=relay_executor)
        return cls(service, settings, engine, sessions, outbox, relay)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Publish the outbox while the API runs (unless IRIS_OUTBOX_RELAY=false), and purge
        what has passed its retention period (iris.retention)."""
        task = asyncio.create_task(self.relay.run()) if self.settings.outbox_relay else None
        purge = asyncio.create_task(
            purge_periodically(self.service, self.sessions, self.settings, self.relay.notify)
        )
        try:
            yield
        finally:
            purge.cancel()
            await asyncio.gather(purge, return_exceptions=True)
            if task is not None:
                await self.relay.stop()
                await asyncio.wait_for(task, 10)
            self.engine.dispose()

    def write(self, change: Callable[[Session], T], attempts: int = 3) -> T:
        """Run `change` in one transaction, again when it lost a race on a unique key
        (two first writes for the same key), then wake the relay."""
        for attempt in range(attempts):
            try:
                with transaction(self.sessions) as session:
                    result = change(session)
                break
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
        self.relay.notify()
        return result

    def write_to(self, repository: Callable[[Session], R], change: Callable[[R], T]) -> T:
        """`write`, with `change` given the service's repository on the transaction."""
        return self.write(lambda session: change(repository(session)))

    def read_from(self, repository: Callable[[Session], R], query: Callable[[R], T]) -> T:
        """Run `query` on the service's repository over a session of its own."""
        with self.sessions() as session:
            return query(repository(session))

    async def database_ready(self) -> str | None:
        """A readiness check: the database answers."""
        await asyncio.to_thread(backlog, self.sessions, self.outbox)
        return None

    async def update_metrics(self) -> None:
        """Refresh the outbox gauges before a scrape."""
        OUTBOX_BACKLOG.labels(self.service).set(
            await asyncio.to_thread(backlog, self.sessions, self.outbox)
        )
        OUTBOX_PUBLISHED.labels(self.service).set(self.relay.published)


def in_one_transaction(
    service: str, settings: Settings, work: Callable[[Session], T], **engine_options: Any
) -> T:
    """Run `work` once in one transaction on the service's database (for commands)."""
    engine = make_engine(settings.database_url_for(service), **engine_options)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return work(session)
    finally:
        engine.dispose()
