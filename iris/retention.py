"""Retention of personal data: how long each kind is kept, and the purge that deletes what
has passed its period in every service that holds personal data (docs/privacy.md).

A service lists its kinds in `services/<service>/purge.py` as `KINDS`. A kind finds the rows
past their period (`due`, oldest first, at most a batch) and forgets them (`forget`: delete
them and queue in the outbox the tombstones the other services need to forget them too).

The purge runs by itself in every replica of a service's API: `ServiceStore.running` starts
`purge_periodically`, which purges once shortly after start and then every
`IRIS_PURGE_PERIOD_SECONDS`. Each batch is one transaction. On PostgreSQL the batch first
takes a transaction-level advisory lock: while one replica purges, another skips its round
instead of deleting the same rows beside it. SQLite takes the write lock at BEGIN anyway.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from iris.db import transaction
from iris.settings import Settings

log = logging.getLogger(__name__)

PURGED = Counter(
    "iris_purged_rows", "Rows the purge deleted after their retention period", ["service", "kind"]
)
PURGE_FAILURES = Counter("iris_purge_failures", "Purge rounds that failed", ["service"])
PURGE_LAST_SUCCESS = Gauge(
    "iris_purge_last_success_timestamp_seconds", "When a purge round last completed", ["service"]
)
# the first round waits this long after start, so that a replica starting up serves first
FIRST_ROUND_DELAY_SECONDS = 30.0


@dataclass(frozen=True)
class Periods:
    """The retention periods (`IRIS_RETENTION_<NAME>_DAYS`), each counted from the moment the
    data stopped serving its purpose (docs/privacy.md says which moment for each)."""

    views: timedelta
    ended_enrolment: timedelta
    closed_grant: timedelta
    closed_request: timedelta
    audit: timedelta
    replaced_report: timedelta
    outbox: timedelta
    intake: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Periods:
        return cls(
            **{
                f.name: timedelta(days=getattr(settings, f"retention_{f.name}_days"))
                for f in fields(cls)
            }
        )


Due = Callable[[Session, datetime, int | None], list[Any]]
Forget = Callable[[Session, list[Any]], None]


@dataclass(frozen=True)
class Kind:
    """One kind of data a service purges: `due(session, cutoff, limit)` lists rows that
    stopped serving their purpose before `cutoff` (at most `limit`; None: all of them)."""

    name: str  # the `kind` label of the metrics, and what `iris purge` prints
    period: str  # the field of `Periods`
    due: Due
    forget: Forget


def utc_now() -> datetime:
    return datetime.now(UTC)


def kinds_of(service: str) -> tuple[Kind, ...]:
    """The kinds `services/<service>/purge.py` declares (none when it has no such module)."""
    name = f"services.{service}.purge"
    try:
        if importlib.util.find_spec(name) is None:
            return ()
    except ModuleNotFoundError:
        return ()
    return tuple(importlib.import_module(name).KINDS)


def _single_runner(session: Session, service: str) -> bool:
    """True when this transaction may purge: on PostgreSQL, when it got the service's purge
    lock (released at commit); elsewhere always."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = zlib.crc32(f"iris-purge-{service}".encode())
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())


def purge_once(
    service: str,
    sessions: sessionmaker[Session],
    periods: Periods,
    now: datetime,
    batch_size: int = 1000,
    kinds: tuple[Kind, ...] | None = None,
) -> dict[str, int]:
    """Delete every row past its period, one batch per transaction; returns the count per
    kind. Stops early (with what it did so far) when another replica holds the lock."""
    done: dict[str, int] = {}
    for kind in kinds_of(service) if kinds is None else kinds:
        cutoff = now - getattr(periods, kind.period)
        done[kind.name] = 0
        while True:
            with transaction(sessions) as session:
                if not _single_runner(session, service):
                    return done
                rows = kind.due(session, cutoff, batch_size)
                if rows:
                    kind.forget(session, rows)
            done[kind.name] += len(rows)
            PURGED.labels(service, kind.name).inc(len(rows))
            if len(rows) < batch_size:
                break
    return done


def would_purge(
    service: str, sessions: sessionmaker[Session], periods: Periods, now: datetime
) -> dict[str, int]:
    """What `purge_once` would delete now, per kind; changes nothing."""
    found: dict[str, int] = {}
    with sessions() as session:
        for kind in kinds_of(service):
            found[kind.name] = len(kind.due(session, now - getattr(periods, kind.period), None))
        session.rollback()
    return found


async def purge_periodically(
    service: str,
    sessions: sessionmaker[Session],
    settings: Settings,
    after_round: Callable[[], None] = lambda: None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """The purge of one replica, for as long as it runs; `after_round` wakes the relay for
    the tombstones a round queued."""
    periods = Periods.of(settings)
    await asyncio.sleep(min(FIRST_ROUND_DELAY_SECONDS, settings.purge_period_seconds))
    while True:
        try:
            done = await asyncio.to_thread(
                purge_once, service, sessions, periods, clock(), settings.purge_batch_size
            )
            PURGE_LAST_SUCCESS.labels(service).set_to_current_time()
            if any(done.values()):
                after_round()
                log.info("purged past retention", extra={"service": service, "purged": done})
        except Exception as exc:  # database away: the next round tries again
            PURGE_FAILURES.labels(service).inc()
            log.warning("purge paused", extra={"service": service, "error": repr(exc)})
        await asyncio.sleep(settings.purge_period_seconds)


def rows_past(
    name: str,
    period: str,
    key: Any,
    since: Any,
    *also: Any,
    order: Any = None,
    then: Forget = lambda session, ids: None,
) -> Kind:
    """A kind of rows, one `key` each, that stop serving their purpose at `since` (where
    `also` holds); `then` queues what the others need to forget them too."""

    def due(session: Session, cutoff: datetime, limit: int | None) -> list[Any]:
        query = (
            select(key)
            .where(*also, since < cutoff)
            .order_by(since if order is None else order)
            .limit(limit)
        )
        return list(session.scalars(query))

    def forget(session: Session, ids: list[Any]) -> None:
        session.execute(delete(key.class_).where(key.in_(ids)))
        then(session, ids)

    return Kind(name, period, due, forget)


def outbox_kind(outbox: Any) -> Kind:
    """Published outbox rows: each is a copy of an event, personal data included, kept only
    while it may still have to be sent."""
    return rows_past(
        "published_events",
        "outbox",
        outbox.id,
        outbox.sent_at,
        outbox.sent_at.is_not(None),
        order=outbox.id,
    )
