"""`iris bench memory`: the viewer cache's weight in Redis for a data set, without the
platform. The data set's change events, as the services publish them for its facts, are
folded by the viewer's own fold (`AuthCache.fold`, batches of 2,000 as in a rebuild) into a
Redis server of the bench's own, and weighed: INFO memory before and after, and MEMORY
USAGE by kind of key. The whole of Flanders takes a couple of minutes here, where
`iris bench run --scale 1.0` needs hours to publish it through the APIs first."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from redis import asyncio as aioredis

from bench import harness, targets
from bench.cachebench import weigh
from bench.dataset import Dataset, generate
from bench.run import server_version
from iris import contracts, infra
from services.viewer.cache import AuthCache

BATCH = 2000


def change_events(data: Dataset) -> Iterator[contracts.Event]:
    """What the services publish for the data set: an enrolment change per fact, a report
    issue per version (numbered per pupil) and its withdrawal where the fact says so, a
    grant change per grant that has not ended (the access API refuses the others), and
    its revocation."""
    now = datetime.now(UTC)
    for e in data.enrolments:
        yield contracts.EnrolmentChanged(
            pupil_id=e.pupil_id,
            school_id=e.school_id,
            start_date=date.fromisoformat(e.start_date),
            end_date=date.fromisoformat(e.end_date) if e.end_date else None,
            display_name=e.display_name,
            version=1,
        )
    versions: dict[str, int] = defaultdict(int)
    for r in data.reports:
        versions[r.pupil_id] += 1
        issued = contracts.ReportIssued(
            report_id=uuid.uuid4(),
            pupil_id=r.pupil_id,
            version=versions[r.pupil_id],
            sequence=2 * versions[r.pupil_id] - 1,
            kind=r.kind,  # type: ignore[arg-type]
            clb_id=r.clb_id,
            issued_at=now,
            valid_from=date.fromisoformat(r.valid_from),
        )
        yield issued
        if r.withdraw:
            yield contracts.ReportWithdrawn(
                report_id=issued.report_id,
                pupil_id=r.pupil_id,
                version=issued.version,
                sequence=issued.sequence + 1,
                withdrawn_at=now,
                withdrawn_on=date.fromisoformat(data.today),
                kind=issued.kind,
                clb_id=issued.clb_id,
                issued_at=now,
                valid_from=issued.valid_from,
            )
    for g in data.grants:
        if g.valid_until < data.today:
            continue
        yield contracts.GrantChanged(
            grant_id=uuid.uuid4(),
            school_id=g.school_id,
            person_id=g.person_id,
            role=g.role,  # type: ignore[arg-type]
            pupil_ids=g.pupil_ids,
            valid_from=date.fromisoformat(g.valid_from),
            valid_until=date.fromisoformat(g.valid_until),
            status="revoked" if g.revoke else "active",
            version=2 if g.revoke else 1,
            changed_by="bench",
        )


async def fold_and_weigh(redis_url: str, data: Dataset) -> dict[str, Any]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.flushdb()
        before = (await client.info("memory"))["used_memory"]
        cache, batch, events, began = AuthCache(client), [], 0, time.perf_counter()
        for event in change_events(data):
            batch.append(event)
            if len(batch) == BATCH:
                await cache.fold(batch)
                events, batch = events + len(batch), []
        await cache.fold(batch)
        events += len(batch)
        seconds = time.perf_counter() - began
        after = (await client.info("memory"))["used_memory"]
        return {
            "events": events,
            "fold_seconds": seconds,
            "cache_bytes": after - before,
            "cache_mib": (after - before) / 2**20,
            **await weigh(client, data),
        }
    finally:
        await client.aclose()  # type: ignore[attr-defined]


def main(scale: float, seed: int, out: Path) -> Path:
    data = generate(scale, seed)
    print(f"IRIS bench memory at scale {scale:g}: {data.counts()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="iris-bench-memory-"))
    redis = infra.start_redis(infra.free_port(), folder)
    try:
        weights = asyncio.run(fold_and_weigh(redis.url, data))
        version = asyncio.run(server_version(redis.url))
    finally:
        redis.stop()
    print(f"  {weights['events']:,} events folded in {weights['fold_seconds']:.1f} s")
    if scale == 1.0:
        met = "met" if targets.memory_met(weights["cache_bytes"]) else "MISSED"
    else:  # a bucket's key costs the same for a few entries as for many
        met = "judged at scale 1 only"
    print(f"  the cache weighs {weights['cache_mib']:.1f} MiB (target {targets.MEMORY}: {met})")
    for kind, weight in weights["keys"].items():
        print(f"    {kind:14} {weight['keys']:>8,} keys {weight['bytes'] / 2**20:8.1f} MiB")
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = out / f"{stamp}-scale{scale:g}-memory.json"
    record = {
        "scale": scale,
        "seed": seed,
        "dataset": data.counts(),
        "machine": harness.describe_machine(),
        "redis": f"local redis-server {version}",
        **weights,
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"IRIS bench memory: results in {path}")
    return path
