"""Grants whose period has passed are marked expired by the access API's process, once
per `IRIS_ACCESS_EXPIRY_PERIOD_SECONDS`."""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import Counter

from services.access import service
from services.access.bootstrap import AccessDeps

log = logging.getLogger(__name__)

GRANTS_EXPIRED = Counter("iris_access_grants_expired_total", "Grants marked expired")


def expire_once(deps: AccessDeps) -> int:
    """Expire every grant due today, batch by batch; returns how many."""
    total = 0
    while True:
        expired = deps.write(lambda repo: service.expire_due(repo, deps.today()))
        total += len(expired)
        GRANTS_EXPIRED.inc(len(expired))
        if len(expired) < service.EXPIRY_BATCH:
            return total


async def expire_periodically(deps: AccessDeps) -> None:
    while True:
        try:
            await asyncio.to_thread(expire_once, deps)
        except Exception as exc:  # database away: try again next period
            log.warning("grant expiry paused", extra={"error": repr(exc)})
        await asyncio.sleep(deps.settings.access_expiry_period_seconds)
