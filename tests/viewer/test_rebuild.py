"""Three viewer workers' rebuild loops against one empty Redis: exactly one rebuilds, the
others wait for its marker, and the cache then agrees with the reference model."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import random
import time
from typing import Any

import pytest
import redis

from iris.contracts import ACCESS_GRANTS, ENROLMENT_CHANGES, REPORT_CHANGES
from iris.insz import make_insz
from iris.kafka import ensure_topics
from services.viewer import domain
from services.viewer import rebuild as rebuild_module
from services.viewer.cache import AuthCache
from services.viewer.rebuild import keep_ready
from tests.viewer.conftest import mark_ready
from tests.viewer.events import Publisher, enrolment, grant, issued, withdrawn

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

WORKERS = 3
ROUNDS = 4
TODAY = "2026-10-01"
SCHOOLS = [f"3000{n:02d}" for n in range(1, 6)]
PUPILS = [make_insz("2013-05-06", n) for n in range(1, 401)]
PERSONS = [make_insz("1985-07-08", n) for n in range(1, 61)]


def history(rng: random.Random) -> list[Any]:
    """Enrolments, reports (some withdrawn) and grants of people and pupils of this test
    only: the topics keep every earlier test's events too."""
    events: list[Any] = []
    for n, pupil in enumerate(PUPILS):
        school = SCHOOLS[n % len(SCHOOLS)]
        end = "2026-06-30" if n % 7 == 0 else None
        events.append(enrolment(pupil, school, 1, start="2025-09-01", end=end))
        if n % 3:
            first = issued(pupil, 1, valid_from="2025-10-01")
            events += [first, issued(pupil, 2, valid_from="2026-09-01")]
            if n % 11 == 0:
                events.append(withdrawn(pupil, first.report_id, 3, on="2026-01-01"))
    for n, person in enumerate(PERSONS):
        school = SCHOOLS[n % len(SCHOOLS)]
        pupils = rng.sample(PUPILS, 3) if n % 4 == 0 else None
        events.append(grant(school, person, 1, pupils=pupils))
        if n % 5 == 0:
            events.append(grant(school, person, 2, status="revoked"))
    return events


class CountedCache(AuthCache):
    """The viewer's cache, noting when a rebuild takes the lease and when it finishes."""

    def __init__(self, client: Any, notes: dict[str, list[float]]) -> None:
        super().__init__(client)
        self.notes = notes

    async def claim_rebuild(self, token: str, seconds: float, if_missing: bool = False) -> bool:
        claimed = await super().claim_rebuild(token, seconds, if_missing)
        if claimed:
            self.notes["claimed"].append(time.monotonic())
        return claimed

    async def finish_rebuild(self, token: str, marker: dict[str, Any]) -> bool:
        done = await super().finish_rebuild(token, marker)
        if done:
            self.notes["finished"].append(time.monotonic())
        return done


async def one_round(redis_url: str, settings: Any) -> dict[str, Any]:
    notes: dict[str, list[float]] = {"claimed": [], "finished": []}
    caches = [CountedCache(AuthCache.from_url(redis_url).client, notes) for _ in range(WORKERS)]
    built = [asyncio.Event() for _ in range(WORKERS)]
    began = time.monotonic()
    loops = [
        asyncio.create_task(keep_ready(cache, settings, ready))
        for cache, ready in zip(caches, built, strict=True)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(b.wait() for b in built)), timeout=120)
        all_ready = time.monotonic()
    except TimeoutError:
        raise AssertionError(f"not every worker ready within 120 s:\n{stacks(loops)}") from None
    finally:
        for task in loops:
            task.cancel()
        _, stuck = await asyncio.wait(loops, timeout=30)
        for cache in caches:
            await cache.close()
    assert not stuck, f"rebuild loops that did not stop when cancelled:\n{stacks(stuck)}"
    return {
        "rebuilds": len(notes["claimed"]),
        "rebuild_seconds": round(notes["finished"][0] - notes["claimed"][0], 3),
        "all_ready_seconds": round(all_ready - began, 3),
    }


def stacks(tasks: Any) -> str:
    """Where each task waits, for a failure's message."""
    out = io.StringIO()
    for task in tasks:
        task.print_stack(file=out)
    return out.getvalue()


def run_round(redis_url: str, settings: Any) -> dict[str, Any]:
    """One round in an event loop of its own, closed without waiting for the rebuild loops
    again: one that ignores its cancellation fails the round instead of hanging the run."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(one_round(redis_url, settings))
    finally:
        loop.close()


def test_three_workers_facing_an_empty_redis_rebuild_once_and_agree_with_the_reference(
    infra, viewer_settings, artifacts
):
    events = history(random.Random(5))
    asyncio.run(ensure_topics(viewer_settings, (ENROLMENT_CHANGES, REPORT_CHANGES, ACCESS_GRANTS)))
    publisher = Publisher(infra.kafka_bootstrap)
    try:
        # one at a time: the embedded broker reports the end of a partition written in
        # multi-record batches short, and the rebuild reads up to the end it reports
        for event in events:
            publisher.publish(event)
    finally:
        publisher.close()
    client = redis.Redis.from_url(infra.redis_url)
    rounds = []
    try:
        for _ in range(ROUNDS):
            client.flushdb()
            found = run_round(infra.redis_url, viewer_settings)
            log.info("three workers against an empty Redis", extra=found)
            rounds.append(found)
            assert found["rebuilds"] == 1, found
        mark_ready(client)  # no worker renews the freshness lease here
        reference = domain.fold(events)
        asyncio.run(agrees_with(infra.redis_url, reference))
    finally:
        client.flushdb()
        client.close()
        (artifacts / "rebuild-three-workers.json").write_text(json.dumps(rounds, indent=1))


async def agrees_with(redis_url: str, reference: domain.State) -> None:
    cache = AuthCache.from_url(redis_url)
    try:
        for person in PERSONS:
            for pupil in PUPILS[:60]:
                for school in (None, SCHOOLS[0]):
                    expected = domain.may_view(person, pupil, TODAY, reference, school)
                    assert await cache.check(person, pupil, TODAY, school) == expected
    finally:
        await cache.close()


def test_a_rebuild_that_cannot_read_a_partition_to_its_end_never_marks_the_cache_ready(
    infra, viewer_settings, monkeypatch, caplog
):
    """The agents committed further than the broker now serves (a stale leader, a lost
    segment): what lies beyond may be a revocation, so the cache must stay not ready."""
    pupil, school, person = PUPILS[0], SCHOOLS[0], PERSONS[0]
    asyncio.run(ensure_topics(viewer_settings, (ENROLMENT_CHANGES, REPORT_CHANGES, ACCESS_GRANTS)))
    publisher = Publisher(infra.kafka_bootstrap)
    try:
        for event in (enrolment(pupil, school, 1, start="2025-09-01"), grant(school, person, 1)):
            publisher.publish(event)
    finally:
        publisher.close()

    async def committed_beyond_the_end(settings: Any, partitions: list[Any]) -> dict[Any, int]:
        return {partitions[0]: 10**12}

    monkeypatch.setattr(rebuild_module, "agents_committed_once", committed_beyond_the_end)
    monkeypatch.setattr(rebuild_module, "STALL_SECONDS", 1.0)
    client = redis.Redis.from_url(infra.redis_url)
    client.flushdb()

    async def attempt() -> tuple[bool, domain.Decision]:
        cache = AuthCache.from_url(infra.redis_url)
        try:
            ready = await rebuild_module.rebuild(cache, viewer_settings)
            return ready, await cache.check(person, pupil, TODAY, school)
        finally:
            await cache.close()

    try:
        with caplog.at_level(logging.WARNING, logger=rebuild_module.__name__):
            ready, decision = asyncio.run(attempt())
    finally:
        client.flushdb()
        client.close()
    assert ready is False
    assert decision == domain.Decision(False, domain.CACHE_NOT_READY)
    assert "rebuild abandoned" in caplog.text
