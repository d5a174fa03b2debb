"""The viewer cache rebuilt from the change topics into an empty Redis database, timed,
and its weight in Redis memory."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict
from typing import Any

from redis import asyncio as aioredis

from bench.dataset import Dataset
from iris.settings import Settings
from services.viewer.cache import PREFIX, AuthCache
from services.viewer.rebuild import Phases, rebuild


class _TimedCache(AuthCache):
    """The viewer's cache, counting folded events over time for the progress curve."""

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client)
        self.began = time.perf_counter()
        self.folded = 0
        self.curve: list[tuple[float, int]] = []

    async def apply(self, rows: list[list[Any]]) -> None:
        await super().apply(rows)
        self.folded += len(rows)  # a row per event
        self.curve.append((round(time.perf_counter() - self.began, 3), self.folded))


def key_kind(key: str) -> str:
    """`school enr`, `school rep`, `school grant`, `pupil report`, `pupil index`,
    `person index`, or the control key's name (`ready`, `live`, `rebuilding`)."""
    tag, _, rest = key.removeprefix(PREFIX).partition("}:")
    part = rest.split(":")[0]
    if tag == "{ctl":
        return part
    if part == "pupils":
        return "pupil index"
    if part == "persons":
        return "person index"
    if part == "reports":
        return "pupil report"
    return "school " + part


def empty_database_url(redis_url: str) -> str:
    """Database 14 of the same Redis server (13 when the platform itself uses 14)."""
    base, _, last = redis_url.rstrip("/").rpartition("/")
    if not last.isdigit():
        base, last = redis_url.rstrip("/"), "0"
    return f"{base}/{13 if last == '14' else 14}"


async def rebuild_and_memory(settings: Settings, data: Dataset) -> dict[str, Any]:
    """Rebuild the whole cache from the topics into an empty Redis database, timed, then
    weigh it: INFO memory before and after, and MEMORY USAGE per kind of key."""
    url = empty_database_url(settings.redis_url)
    client = aioredis.Redis.from_url(url)
    await client.flushdb()
    before = (await client.info("memory"))["used_memory"]
    cache = _TimedCache(client)
    phases = Phases()
    ready = await rebuild(cache, settings.model_copy(update={"redis_url": url}), phases=phases)
    seconds = time.perf_counter() - cache.began
    after = (await client.info("memory"))["used_memory"]
    weights = await weigh(client, data)
    await client.flushdb()
    await client.aclose()  # type: ignore[attr-defined]
    return {
        "ready": ready,
        "events": cache.folded,
        "seconds": seconds,
        "curve": cache.curve,
        "used_memory_before": before,
        "used_memory_after": after,
        "cache_bytes": after - before,
        "phases_seconds": asdict(phases),
        **weights,
    }


async def weigh(client: aioredis.Redis, data: Dataset) -> dict[str, Any]:
    """MEMORY USAGE of every cache key, by kind, and per pupil and per grant."""
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # kind -> [keys, bytes]
    batch: list[bytes] = []

    async def add(keys: list[bytes]) -> None:
        pipe = client.pipeline(transaction=False)
        for k in keys:
            pipe.memory_usage(k, samples=0)
        for k, used in zip(keys, await pipe.execute(), strict=True):
            kind = key_kind(k.decode())
            kinds[kind][0] += 1
            kinds[kind][1] += used or 0

    async for key in client.scan_iter(match=PREFIX + "*", count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            await add(batch)
            batch = []
    if batch:
        await add(batch)
    pupils = len({e.pupil_id for e in data.enrolments})
    grant_bytes = sum(b for k, (_n, b) in kinds.items() if k in ("school grant", "person index"))
    pupil_bytes = sum(
        b
        for k, (_n, b) in kinds.items()
        if k in ("school enr", "school rep", "pupil report", "pupil index")
    )
    return {
        "keys": {k: {"keys": n, "bytes": b} for k, (n, b) in sorted(kinds.items())},
        "bytes_per_pupil": pupil_bytes / max(pupils, 1),
        "bytes_per_grant": grant_bytes / max(len(data.grants), 1),
        "pupils": pupils,
        "grants": len(data.grants),
    }
