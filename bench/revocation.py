"""Revoke-to-deny on the running platform: how long after the access API answers a
revocation the viewer's check denies the revoked teacher."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from functools import partial
from typing import Any

import aiohttp

from bench import hops
from bench.kafkabench import Options, assigned
from bench.platform import Tokens, call, http_session, pool, responsible_of
from iris.insz import make_insz
from services.viewer.cache import AuthCache


async def revoke_to_deny(
    urls: dict[str, str],
    kafka: Options,
    redis_url: str,
    tokens: Tokens,
    pairs: list[tuple[str, str, str]],
    count: int,
    within: float = 10.0,
    lanes: int = 8,
) -> dict[str, Any]:
    """Grant `count` new teachers, wait until each may view, then revoke them, `lanes` at
    a time, timing each from the revoke call's answer to the first denied check."""
    cache = AuthCache.from_url(redis_url)
    today = date.today().isoformat()
    samples: list[float] = []
    lost = 0
    on_topic: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    # wall-clock stamps for the per-hop split (bench/hops.py)
    stamps: dict[str, dict[str, float]] = {
        name: {} for name in ("answered", "produced", "received", "denied")
    }
    try:
        async with http_session(16, timeout=30) as http:
            made, ready = await _grant_and_wait(http, urls, tokens, cache, pairs, count, today)
            listening = asyncio.create_task(_listen_for_revocations(kafka, on_topic, stamps))
            await asyncio.sleep(1.0)  # the listener joins at the end of the topic

            async def revoke(item: tuple[str, str, str, str]) -> None:
                nonlocal lost
                person, pupil, school, grant_id = item
                headers = tokens.person(responsible_of(school), school_admin_of=[school])
                answer = await call(
                    http,
                    f"{urls['access']}/v1/schools/{school}/grants/{grant_id}/revoke",
                    headers=headers,
                )
                answered = answered_at[grant_id] = time.perf_counter()
                stamps["answered"][grant_id] = time.time()
                if answer is None or answer.status_code != 200:
                    lost += 1
                    return
                while time.perf_counter() - answered < within:
                    if not (await cache.check(person, pupil, today)).allowed:
                        samples.append((time.perf_counter() - answered) * 1000)
                        stamps["denied"][grant_id] = time.time()
                        return
                lost += 1

            # a few revocations in flight at once, each timed on its own
            await pool([partial(revoke, item) for item in ready], lanes)
            await asyncio.sleep(0.5)
            listening.cancel()
    finally:
        await cache.close()
    topic_ms = [(on_topic[g] - t) * 1000 for g, t in answered_at.items() if g in on_topic]
    return {
        "revoke_to_topic_ms": topic_ms,
        "revoke_to_deny_ms": samples,
        "hops_ms": hops.revoke_hops(**stamps),
        "granted": len(made),
        "allowed_before_revoking": len(ready),
        "not_denied_in_time": lost,
    }


Grant = tuple[str, str, str, str]  # person, pupil, school, grant_id


async def _grant_and_wait(
    http: aiohttp.ClientSession,
    urls: dict[str, str],
    tokens: Tokens,
    cache: AuthCache,
    pairs: list[tuple[str, str, str]],
    count: int,
    today: str,
) -> tuple[list[Grant], list[Grant]]:
    """Grant `count` new teachers a whole school each; returns the grants made and those
    the viewer's check allowed within ten seconds."""
    made: list[Grant] = []

    async def grant(n: int) -> None:
        _holder, pupil, school = pairs[n % len(pairs)]
        person = (
            make_insz("1990-02-02", 1 + n % 990)
            if n < 990
            else make_insz("1991-03-03", 1 + n % 990)
        )
        headers = tokens.person(responsible_of(school), school_admin_of=[school])
        answer = await call(
            http,
            f"{urls['access']}/v1/schools/{school}/grants",
            headers=headers,
            json={"person_id": person, "role": "teacher", "valid_from": "2026-09-01"},
        )
        if answer is not None and answer.status_code == 200:
            made.append((person, pupil, school, answer.json()["grant_id"]))

    await pool([partial(grant, n) for n in range(count)], 16)
    ready: list[Grant] = []
    for item in made:
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            if (await cache.check(item[0], item[1], today)).allowed:
                ready.append(item)
                break
            await asyncio.sleep(0.01)
    return made, ready


async def _listen_for_revocations(
    kafka: Options, seen: dict[str, float], stamps: dict[str, dict[str, float]]
) -> None:
    """Note when each revoked grant's change reaches `iris.access.grants` (relay + broker),
    and in `stamps` its record's timestamp and the wall-clock time it was received."""
    consumer = await assigned(kafka, ["iris.access.grants"], fetch_max_wait_ms=20, latest=True)
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batches.values():
                for r in records:
                    value = json.loads(r.value or b"{}")
                    if value.get("status") == "revoked":
                        grant = str(value.get("grant_id"))
                        seen.setdefault(grant, now)
                        stamps["produced"].setdefault(grant, r.timestamp / 1000)
                        stamps["received"].setdefault(grant, time.time())
    finally:
        await consumer.stop()
