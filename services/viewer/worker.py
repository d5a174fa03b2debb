"""Viewer worker: folds `iris.enrolment.changes`, `iris.report.changes` and
`iris.access.grants` into the authorisation cache in Redis, and rebuilds the cache
from the beginning of those topics at start and whenever Redis has lost it.
Run with `iris worker viewer`.

A value that does not parse goes to `iris.viewer.rejected` with its reason, and
the worker moves on. A fold that fails is retried, and meanwhile the worker stops
renewing the freshness lease (`freshness.py`), so checks deny until it succeeds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from iris.contracts import (
    ACCESS_GRANTS,
    ENROLMENT_CHANGES,
    REPORT_CHANGES,
    Rejected,
)
from iris.settings import Settings
from iris.streams import make_faust_app, raw_topic
from iris.worker_metrics import serve_worker_metrics
from services.viewer.cache import AuthCache
from services.viewer.claims import count_registrations_with_report
from services.viewer.freshness import FoldHealth, LagWatch, keep_current
from services.viewer.rebuild import VIEWER_REJECTED, keep_ready, parse_change

log = logging.getLogger(__name__)

settings = Settings()
# Commit often: the freshness lease measures the agents' lag by their committed offsets.
app = make_faust_app("iris-viewer", settings, broker_commit_interval=1.0)
health = FoldHealth()
built = asyncio.Event()


enrolment_changes = raw_topic(app, ENROLMENT_CHANGES.name)
report_changes = raw_topic(app, REPORT_CHANGES.name)
access_grants = raw_topic(app, ACCESS_GRANTS.name)
rejected = raw_topic(app, VIEWER_REJECTED.name)

_cache: AuthCache | None = None


def cache() -> AuthCache:
    global _cache
    if _cache is None:
        _cache = AuthCache.from_url(settings.redis_url)
    return _cache


async def reject(message: Any, reason: str) -> None:
    log.warning(
        "change event rejected",
        extra={"reason": reason, "partition": message.partition, "offset": message.offset},
    )
    rejection = Rejected(
        original=(message.value or b"").decode("utf-8", errors="replace"),
        reason=reason,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
    )
    await rejected.send(key=message.key or b"", value=rejection.to_json())


async def fold_stream(
    stream: Any, topic: str, after: Callable[[AuthCache, list[Any]], Awaitable[int]] | None = None
) -> None:
    async for events in stream.take_events(500, within=0.02):
        batch = []
        for e in events:
            change, reason = parse_change(e.message.topic, e.message.value, e.message.key)
            if change is None:
                await reject(e.message, reason or "does not parse")
            else:
                batch.append(change)
        while True:
            try:
                await cache().fold(batch)
                health.succeeded(topic)
                break
            except Exception as exc:  # keep the batch; the lease lapses, checks deny
                health.failed(topic)
                log.warning("folding failed; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(0.5)
        if after is not None:
            try:
                await after(cache(), batch)
            except Exception as exc:  # a metric only: never hold the fold back for it
                log.warning("registrations not counted", extra={"error": repr(exc)})


@app.agent(enrolment_changes)
async def fold_enrolment_changes(stream: Any) -> None:
    await fold_stream(stream, ENROLMENT_CHANGES.name, after=count_registrations_with_report)


@app.agent(report_changes)
async def fold_report_changes(stream: Any) -> None:
    await fold_stream(stream, REPORT_CHANGES.name)


@app.agent(access_grants)
async def fold_access_grants(stream: Any) -> None:
    await fold_stream(stream, ACCESS_GRANTS.name)


@app.task
async def keep_cache_ready() -> None:
    await keep_ready(cache(), settings, built)


@app.task
async def keep_cache_current() -> None:
    topics = (ENROLMENT_CHANGES.name, REPORT_CHANGES.name, ACCESS_GRANTS.name)
    await keep_current(cache(), settings, health, LagWatch(settings, topics), built)


serve_worker_metrics(
    app, settings, [ENROLMENT_CHANGES.name, REPORT_CHANGES.name, ACCESS_GRANTS.name]
)
