"""Transactional outbox: state and the events it owes are written in one transaction.

A relay publishes unsent rows in id order and marks them sent once the broker
has acknowledged them. While the broker is away, writes still succeed and the
rows wait; publishing resumes when it returns. Delivery is at-least-once;
consumers rely on `version` and `event_id`, never on exactly-once.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import BigInteger, DateTime, Integer, String, Text, func, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from iris.contracts import Event, Topic
from iris.kafka import ensure_topics, make_producer
from iris.settings import Settings

log = logging.getLogger(__name__)


class OutboxMixin:
    """Columns of a service's outbox table; the service names the table."""

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


def add_event(
    session: Session, outbox: type[OutboxMixin], topic: Topic, key: str, event: Event
) -> None:
    """Queue `event` for `topic` in the caller's transaction."""
    session.add(
        outbox(  # type: ignore[call-arg]
            topic=topic.name,
            key=key,
            event_type=getattr(event, "type", type(event).__name__),
            event_id=str(event.event_id),
            payload=event.model_dump_json(),
            created_at=datetime.now(UTC),
        )
    )


def backlog(factory: sessionmaker[Session], outbox: type[OutboxMixin]) -> int:
    with factory() as session:
        return (
            session.scalar(select(func.count()).select_from(outbox).where(outbox.sent_at.is_(None)))
            or 0
        )


class OutboxRelay:
    """Publishes a service's outbox. Run one per service (PostgreSQL elects one by lock)."""

    batch_size = 500

    def __init__(
        self,
        service: str,
        factory: sessionmaker[Session],
        outbox: type[OutboxMixin],
        settings: Settings,
        producer_factory: Callable[[Settings], AIOKafkaProducer] = make_producer,
    ) -> None:
        self.service = service
        self.factory = factory
        self.outbox = outbox
        self.settings = settings
        self.producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.published = 0
        self.connected = False

    def notify(self) -> None:
        """Wake the relay after a commit; safe to call from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        backoff = 0.2
        lock = await asyncio.to_thread(self._leadership)
        try:
            while not self._stopping:
                try:
                    if lock is not None and not await asyncio.to_thread(lock.acquire):
                        await self._sleep(1.0)
                        continue
                    await self.publish_pending()
                    backoff = 0.2
                    await self._sleep(self.settings.outbox_poll_seconds)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # broker or database away: keep rows, retry
                    log.warning(
                        "outbox relay paused", extra={"service": self.service, "error": repr(exc)}
                    )
                    await self._drop_producer()
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            await self._drop_producer()
            if lock is not None:
                await asyncio.to_thread(lock.release)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish every unsent row, oldest first; returns how many were published."""
        total = 0
        while True:
            rows = await asyncio.to_thread(self._unsent)
            if not rows:
                return total
            producer = await self._ensure_producer()
            futures = [
                await producer.send(
                    topic,
                    key=key.encode(),
                    value=payload.encode(),
                    headers=[("event_type", event_type.encode())],
                )
                for (_id, topic, key, event_type, payload) in rows
            ]
            results = await asyncio.gather(*futures, return_exceptions=True)
            done = [
                row[0]
                for row, result in zip(rows, results, strict=True)
                if not isinstance(result, BaseException)
            ]
            if done:
                await asyncio.to_thread(self._mark_sent, done)
                total += len(done)
                self.published += len(done)
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed:
                raise failed[0]

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            await ensure_topics(self.settings)
            producer = self.producer_factory(self.settings)
            await producer.start()
            self._producer = producer
            self.connected = True
        return self._producer

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        self.connected = False
        if producer is not None:
            try:
                await producer.stop()
            except Exception:  # noqa: S110 - the broker may already be gone
                pass

    def _unsent(self) -> list[tuple[int, str, str, str, str]]:
        o = self.outbox
        with self.factory() as session:
            result = session.execute(
                select(o.id, o.topic, o.key, o.event_type, o.payload)
                .where(o.sent_at.is_(None))
                .order_by(o.id)
                .limit(self.batch_size)
            )
            return [tuple(row) for row in result]  # type: ignore[misc]

    def _mark_sent(self, ids: list[int]) -> None:
        with self.factory() as session, session.begin():
            session.execute(
                update(self.outbox).where(self.outbox.id.in_(ids)).values(sent_at=datetime.now(UTC))
            )

    def _leadership(self) -> _AdvisoryLock | None:
        engine = self.factory.kw.get("bind")
        if engine is None or engine.dialect.name != "postgresql":
            return None
        return _AdvisoryLock(engine, zlib.crc32(f"iris-outbox-{self.service}".encode()))


class _AdvisoryLock:
    """A PostgreSQL session lock held on its own connection: one relay per service publishes."""

    def __init__(self, engine: Any, key: int) -> None:
        self.engine = engine
        self.key = key
        self.connection: Any = None

    def acquire(self) -> bool:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT 1"))
                return True
            except Exception:
                self.connection = None
        connection = self.engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        connection.commit()
        if got:
            self.connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self.connection.close()
            finally:
                self.connection = None
