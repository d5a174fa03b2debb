"""Viewer worker: folds `iris.enrolment.changes`, `iris.report.changes` and
`iris.access.grants` into the authorisation cache in Redis, and rebuilds the cache
from the beginning of those topics at start and whenever Redis has lost it.
Run with `iris worker viewer`.

A value that does not parse is logged with its reason and skipped (the change
topics are written only by their owning services' outboxes).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from iris.settings import Settings
from iris.streams import make_faust_app
from services.viewer.cache import AuthCache
from services.viewer.rebuild import keep_ready, parse_change

log = logging.getLogger(__name__)

settings = Settings()
app = make_faust_app("iris-viewer", settings)


def _raw_topic(name: str) -> Any:
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )


enrolment_changes = _raw_topic("iris.enrolment.changes")
report_changes = _raw_topic("iris.report.changes")
access_grants = _raw_topic("iris.access.grants")

_cache: AuthCache | None = None


def cache() -> AuthCache:
    global _cache
    if _cache is None:
        _cache = AuthCache.from_url(settings.redis_url)
    return _cache


async def fold_stream(stream: Any) -> None:
    async for events in stream.take_events(500, within=0.02):
        changes = [
            parse_change(
                e.message.topic, e.message.value, f"{e.message.topic}/{e.message.partition}"
            )
            for e in events
        ]
        batch = [c for c in changes if c is not None]
        while True:
            try:
                await cache().fold(batch)
                break
            except Exception as exc:  # Redis away: keep the batch; checks deny meanwhile
                log.warning("folding paused", extra={"error": repr(exc)})
                await asyncio.sleep(0.5)


@app.agent(enrolment_changes)
async def fold_enrolment_changes(stream: Any) -> None:
    await fold_stream(stream)


@app.agent(report_changes)
async def fold_report_changes(stream: Any) -> None:
    await fold_stream(stream)


@app.agent(access_grants)
async def fold_access_grants(stream: Any) -> None:
    await fold_stream(stream)


@app.task
async def keep_cache_ready() -> None:
    await keep_ready(cache(), settings)
