"""The freshness lease: checks allow only while a healthy worker vouches for the cache.

A viewer worker renews the lease (`AuthCache.renew_live`, a key with a TTL of
`IRIS_VIEWER_LEASE_SECONDS`) about three times per TTL, and only while

- the cache is built under the running Redis (the ready marker carries its run id),
- none of its own folds is failing, and
- the agents' consumer group has committed, on every partition of the change topics,
  at least the end offsets seen `IRIS_VIEWER_MAX_LAG_SECONDS` ago.

Whatever goes wrong (Redis refusing writes, a fold failing, a worker stalled or dead, a
consumer falling behind), the renewal stops or fails, the lease lapses by itself, and
every check is denied with "authorisation cache not current". A revocation published
at t is therefore honoured, or every check denied, by about t + max lag + renewal
period + lease TTL (3 + 1 + 3 seconds with the defaults; the bound promised is 10).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from iris.kafka import make_admin
from iris.settings import Settings
from services.viewer.cache import AuthCache
from services.viewer.rebuild import agents_committed, change_consumer, change_partitions

log = logging.getLogger(__name__)


class FoldHealth:
    """Which of this worker's streams have a fold failing right now."""

    def __init__(self) -> None:
        self._failing: set[str] = set()

    def failed(self, stream: str) -> None:
        self._failing.add(stream)

    def succeeded(self, stream: str) -> None:
        self._failing.discard(stream)

    def problem(self) -> str | None:
        if self._failing:
            return f"folding fails on {', '.join(sorted(self._failing))}"
        return None


class LagWatch:
    """Compares the agents' committed offsets with the end offsets seen a while ago.

    It keeps its consumer and admin client between questions: asked every renewal period,
    a client per question would sign in to the brokers each time (SCRAM's key derivation
    costs both sides CPU that the folds need)."""

    def __init__(self, settings: Settings, topics: tuple[str, ...]) -> None:
        self.settings = settings
        self.topics = topics
        self.max_lag = settings.viewer_max_lag_seconds
        self._seen: deque[tuple[float, dict[TopicPartition, int]]] = deque()
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._partitions: list[TopicPartition] = []

    async def _ends(self) -> dict[TopicPartition, int]:
        if self._consumer is None:
            consumer = change_consumer(self.settings)
            await consumer.start()
            self._consumer = consumer
        if not self._partitions:
            self._partitions = await change_partitions(self.settings, self.topics)
        partitions = self._partitions
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(partitions)
        return ends

    async def _committed(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        if self._admin is None:
            admin = make_admin(self.settings)
            await admin.start()
            self._admin = admin
        return await agents_committed(self._admin, partitions)

    async def close(self) -> None:
        consumer, admin, self._consumer, self._admin = self._consumer, self._admin, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()

    async def behind(self) -> list[str]:
        """The partitions whose committed offset is short of the end seen `max_lag` ago
        (all of them when the committed offsets cannot be read: fail closed)."""
        now = time.monotonic()
        self._seen.append((now, await self._ends()))
        # Owed by now: the newest end offsets at least max_lag old (or, for a watch younger
        # than that, the oldest it has: at start the agents must first catch up).
        while len(self._seen) > 1 and now - self._seen[1][0] >= self.max_lag:
            self._seen.popleft()
        owed = self._seen[0][1]
        committed = await self._committed(list(owed))
        return [
            f"{tp.topic}:{tp.partition}"
            for tp, end in owed.items()
            if end > 0 and committed.get(tp, 0) < end
        ]


async def keep_current(
    cache: AuthCache,
    settings: Settings,
    health: FoldHealth,
    lag: LagWatch,
    built: asyncio.Event,
) -> None:
    """Renew the freshness lease while everything it vouches for holds; never returns.

    `built` is set by the rebuild loop while the ready marker is this Redis's own."""
    owner = uuid.uuid4().hex
    period = settings.viewer_lease_seconds / 3
    said: str | None = "starting"
    while True:
        started = time.monotonic()
        try:
            problem = health.problem()
            if problem is None and not built.is_set():
                problem = "cache not built"
            if problem is None:
                behind = await lag.behind()
                if behind:
                    problem = f"agents behind on {', '.join(behind)}"
            if problem is None:
                await cache.renew_live(settings.viewer_lease_seconds, owner)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis or the broker away: the lease lapses
            problem = f"lease not renewed: {type(exc).__name__}: {exc}"
            await lag.close()
        if problem != said:
            if problem is None:
                log.info("authorisation cache current; lease renewed")
            else:
                log.warning("authorisation cache not current", extra={"reason": problem})
            said = problem
        await asyncio.sleep(max(0.0, period - (time.monotonic() - started)))
