"""Transactional outbox: state and the events it owes are written in one transaction.

A relay publishes unsent rows in id order and marks them sent once the broker
has acknowledged them. While the broker is away, writes still succeed and the
rows wait; publishing resumes when it returns. Delivery is at-least-once;
consumers rely on `version` and `event_id`, never on exactly-once.

Every process that writes a service's outbox (its API, its worker) may run a relay;
one of them publishes at a time, so each key's events leave in the order written.
The relays elect that one by a lock held for the publisher's life: a PostgreSQL
advisory lock, or with SQLite a lock on a file beside the database. A relay stands
for election when a commit in its own process wakes it, or when unsent rows have
waited `claim_after` seconds (a publisher that died or never was): so the process
that writes the most, the worker draining a topic, ends up publishing its own rows
as soon as it commits them, without a round trip through another process.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from iris.contracts import Event, Topic, owned_topics
from iris.kafka import ensure_topics, make_producer, partition_of
from iris.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
READ_ONLY = {"iris_read_only": True}  # see iris.db: a SQLite read takes no write lock


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


TOMBSTONE = "Tombstone"  # an outbox row whose message has no value: "forget this key"


def add_tombstone(session: Session, outbox: type[OutboxMixin], topic: Topic, key: str) -> None:
    """Queue a tombstone for `key` on a compacted `topic`: once the broker compacts the topic,
    no message of that key is left, and every consumer forgets what the key held."""
    session.add(
        outbox(  # type: ignore[call-arg]
            topic=topic.name,
            key=key,
            event_type=TOMBSTONE,
            event_id=str(uuid.uuid4()),
            payload="",
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
    """Publishes a service's outbox. Any number may run; one publishes (see the module)."""

    batch_size = 2000
    claim_after = 1.0  # seconds an unsent row waits before a relay not woken stands for election

    def __init__(
        self,
        service: str,
        factory: sessionmaker[Session],
        outbox: type[OutboxMixin],
        settings: Settings,
        producer_factory: Callable[[Settings], AIOKafkaProducer] = make_producer,
        executor: Executor | None = None,
    ) -> None:
        """`executor` runs the relay's database calls; a worker passes the one that runs
        its own transactions, so that they take turns instead of waiting on each other."""
        self.service = service
        self.factory = factory
        self.outbox = outbox
        self.settings = settings
        self.producer_factory = producer_factory
        self.executor = executor
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.published = 0
        self.connected = False
        self.leading = False

    def notify(self) -> None:
        """Wake the relay after a commit; safe to call from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def _db(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, call, *args)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        backoff = 0.2
        lock = await self._db(self._leadership)
        woken = False  # rows left from before wait `claim_after`, then any relay takes them
        try:
            while not self._stopping:
                try:
                    if lock is not None and not self.leading:
                        if (woken or await self._db(self._waited_long)) and await self._db(
                            lock.acquire
                        ):
                            self.leading = True
                        else:
                            woken = await self._sleep(self.settings.outbox_poll_seconds)
                            continue
                    elif lock is not None and not await self._db(lock.acquire):
                        self.leading = False  # the lock's connection was lost
                        continue
                    await self.publish_pending()
                    backoff = 0.2
                    woken = await self._sleep(self.settings.outbox_poll_seconds)
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
                await self._db(lock.release)
            self.leading = False

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish every unsent row, oldest first; returns how many were published."""
        total = 0
        while True:
            rows = await self._db(self._unsent)
            if not rows:
                return total
            producer = await self._ensure_producer()
            futures = [
                await producer.send(
                    topic,
                    key=key.encode(),
                    value=None if event_type == TOMBSTONE else payload.encode(),
                    headers=[("event_type", event_type.encode())],
                    partition=await partition_of(producer, topic, key),
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
                await self._db(self._mark_sent, done)
                total += len(done)
                self.published += len(done)
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed:
                raise failed[0]

    async def _sleep(self, seconds: float) -> bool:
        """Wait for a wake-up or `seconds`; True when woken."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
            woken = True
        except TimeoutError:
            woken = False
        self._wake.clear()
        return woken

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            # only its own topics: under the broker's ACLs a service may see no others
            await ensure_topics(self.settings, owned_topics(self.service))
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
            session.connection(execution_options=READ_ONLY)
            result = session.execute(
                select(o.id, o.topic, o.key, o.event_type, o.payload)
                .where(o.sent_at.is_(None))
                .order_by(o.id)
                .limit(self.batch_size)
            )
            return [tuple(row) for row in result]  # type: ignore[misc]

    def _waited_long(self) -> bool:
        """Whether an unsent row has waited `claim_after` seconds for a publisher."""
        o = self.outbox
        before = datetime.now(UTC) - timedelta(seconds=self.claim_after)
        with self.factory() as session:
            session.connection(execution_options=READ_ONLY)
            oldest = session.scalar(
                select(o.created_at).where(o.sent_at.is_(None)).order_by(o.id).limit(1)
            )
        if oldest is None:
            return False
        if oldest.tzinfo is None:  # SQLite gives naive datetimes back
            oldest = oldest.replace(tzinfo=UTC)
        return oldest <= before

    def _mark_sent(self, ids: list[int]) -> None:
        now = datetime.now(UTC)
        with self.factory() as session, session.begin():
            for start in range(0, len(ids), 500):
                # a tombstone's key is what is being forgotten: no copy of it is kept
                session.execute(
                    delete(self.outbox).where(
                        self.outbox.id.in_(ids[start : start + 500]),
                        self.outbox.event_type == TOMBSTONE,
                    )
                )
                session.execute(
                    update(self.outbox)
                    .where(self.outbox.id.in_(ids[start : start + 500]))
                    .values(sent_at=now)
                )

    def _leadership(self) -> _AdvisoryLock | _FileLock | None:
        engine = self.factory.kw.get("bind")
        if engine is None:
            return None
        if engine.dialect.name == "postgresql":
            return _AdvisoryLock(engine, zlib.crc32(f"iris-outbox-{self.service}".encode()))
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        if database and database != ":memory:" and not database.startswith("file:"):
            return _FileLock(Path(f"{database}.relay-lock"))
        return None


class _FileLock:
    """The SQLite counterpart of the advisory lock: an exclusive lock on a file beside the
    database, held while the relay publishes and dropped by the system when its process
    ends, however it ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        if self.fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # closing the file drops its lock


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
