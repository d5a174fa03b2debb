"""A tombstone on a compacted change topic (the purge, an erasure) makes the viewer forget
the enrolment or grant its key held: in Redis as in the reference model, whether it is
folded as it arrives or the cache is rebuilt from what compaction leaves of the topics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from iris.contracts import ACCESS_GRANTS, ENROLMENT_CHANGES, REPORT_CHANGES, Forgotten
from iris.insz import make_insz
from iris.kafka import ensure_topics
from services.viewer import domain
from services.viewer.cache import AuthCache
from services.viewer.rebuild import Phases, rebuild
from tests.viewer.conftest import flush, mark_ready, redis_client
from tests.viewer.events import Publisher, enrolment, grant, issued, withdrawn

pytestmark = pytest.mark.integration

TODAY = "2026-10-01"
SCHOOLS = ["400001", "400002"]


@pytest.fixture(params=["single node", "cluster"])
def redis_url(request: Any, infra: Any) -> str:
    if request.param == "cluster":
        return str(request.getfixturevalue("redis_cluster").url)
    return str(infra.redis_url)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def forget_enrolment(pupil: str, school: str) -> Forgotten:
    return Forgotten(ENROLMENT_CHANGES.name, f"{pupil}:{school}")


def forget_report(pupil: str, version: int) -> Forgotten:
    return Forgotten(REPORT_CHANGES.name, f"{pupil}:{version}")


def forget_grant(school: str, person: str) -> Forgotten:
    return Forgotten(ACCESS_GRANTS.name, f"{school}:{person}")


def everything_in(url: str) -> str:
    """Every key of the cache with every hash field and value, as one text to search."""
    client = redis_client(url)
    found = []
    try:
        for key in client.scan_iter(count=1000):
            found.append(key.decode())
            if client.type(key) == b"hash":
                found += [f"{k.decode()}={v.decode()}" for k, v in client.hgetall(key).items()]
            elif client.type(key) == b"string":
                found.append(client.get(key).decode())
    finally:
        client.close()
    return "\n".join(found)


async def agrees(url: str, reference: domain.State, persons: list[str], pupils: list[str]) -> None:
    cache = AuthCache.from_url(url)
    try:
        for person in persons:
            for pupil in pupils:
                for school in (None, *SCHOOLS):
                    expected = domain.may_view(person, pupil, TODAY, reference, school)
                    got = await cache.check(person, pupil, TODAY, school)
                    assert got == expected, (person, pupil, school)
    finally:
        await cache.close()


def test_a_tombstone_forgets_an_enrolment_and_a_grant_and_leaves_no_trace_in_redis(
    redis_url: str, loop: asyncio.AbstractEventLoop
) -> None:
    gone, kept = make_insz("2013-02-03", 701), make_insz("2013-02-03", 702)
    leaver, teacher = make_insz("1980-02-03", 703), make_insz("1980-02-03", 704)
    school = SCHOOLS[0]
    events: list[Any] = [
        enrolment(gone, school, 1, start="2024-09-01"),
        enrolment(gone, school, 2, start="2024-09-01", end="2025-06-30"),
        enrolment(kept, school, 1, start="2024-09-01"),
        issued(kept, 1, valid_from="2025-09-01"),
        grant(school, leaver, 1),
        grant(school, leaver, 2, status="revoked"),
        grant(school, teacher, 1),
    ]
    forgetting = [forget_enrolment(gone, school), forget_grant(school, leaver)]
    client = redis_client(redis_url)
    flush(client)
    mark_ready(client)
    client.close()
    cache = AuthCache.from_url(redis_url)
    loop.run_until_complete(cache.fold(events))
    assert gone in everything_in(redis_url) and leaver in everything_in(redis_url)
    loop.run_until_complete(cache.fold(forgetting))
    loop.run_until_complete(cache.close())

    held = everything_in(redis_url)
    assert gone not in held and leaver not in held
    assert kept in held and teacher in held
    reference = domain.fold(events + forgetting)
    assert (gone, school) not in reference.enrolments
    assert (school, leaver) not in reference.grants
    loop.run_until_complete(agrees(redis_url, reference, [leaver, teacher], [gone, kept]))
    allowed = loop.run_until_complete(check_once(redis_url, teacher, kept, school))
    assert allowed.allowed  # what was not forgotten still gives sight


async def check_once(url: str, person: str, pupil: str, school: str) -> domain.Decision:
    cache = AuthCache.from_url(url)
    try:
        return await cache.check(person, pupil, TODAY, school)
    finally:
        await cache.close()


def compacted(events: list[Any]) -> list[Any]:
    """What a compacted topic keeps at least: the latest record of every key (a tombstone
    where one was written last; a withdrawal, not the issue it repeats)."""
    latest: dict[tuple[str, str], Any] = {}
    for event in events:
        if isinstance(event, Forgotten):
            latest[(event.topic, event.key)] = event
        elif event.type == "EnrolmentChanged":
            latest[(ENROLMENT_CHANGES.name, f"{event.pupil_id}:{event.school_id}")] = event
        elif event.type == "GrantChanged":
            latest[(ACCESS_GRANTS.name, f"{event.school_id}:{event.person_id}")] = event
        else:
            latest[(REPORT_CHANGES.name, f"{event.pupil_id}:{event.version}")] = event
    return list(latest.values())


def history() -> tuple[list[Any], list[str], list[str]]:
    pupils = [make_insz("2013-04-05", n) for n in range(711, 741)]
    persons = [make_insz("1981-04-05", n) for n in range(711, 721)]
    events: list[Any] = []
    for n, pupil in enumerate(pupils):
        school = SCHOOLS[n % 2]
        events.append(enrolment(pupil, school, 1, start="2024-09-01"))
        events.append(enrolment(pupil, school, 2, start="2024-09-01", end="2026-12-31"))
        first, second = issued(pupil, 1, valid_from="2024-09-01"), issued(pupil, 2, "2025-09-01")
        events += [first, second]
        if n % 4 == 0:
            events.append(withdrawn(pupil, second.report_id, 3, on="2026-01-01", of=second))
        if n % 3 == 0:
            events.append(forget_enrolment(pupil, school))
        if n % 5 == 0:  # the purge forgets the superseded version, an erasure every one
            events.append(forget_report(pupil, 1))
            if n % 2 == 0:
                events.append(forget_report(pupil, 2))
    for n, person in enumerate(persons):
        school = SCHOOLS[n % 2]
        events += [grant(school, person, 1), grant(school, person, 2, role="care_coordinator")]
        if n % 3 == 0:
            events += [grant(school, person, 3, status="revoked"), forget_grant(school, person)]
    return events, pupils, persons


def test_a_cache_rebuilt_from_compacted_topics_agrees_with_the_reference_and_forgets(
    infra: Any, viewer_settings: Any
) -> None:
    events, pupils, persons = history()
    asyncio.run(ensure_topics(viewer_settings, (ENROLMENT_CHANGES, REPORT_CHANGES, ACCESS_GRANTS)))
    publisher = Publisher(infra.kafka_bootstrap)
    try:
        for event in compacted(events):  # one at a time, as test_rebuild explains
            publisher.publish(event)
    finally:
        publisher.close()
    client = redis.Redis.from_url(infra.redis_url)
    try:
        client.flushdb()

        phases = Phases()

        async def rebuilt() -> bool:
            cache = AuthCache.from_url(infra.redis_url)
            try:
                return await rebuild(cache, viewer_settings, phases=phases)
            finally:
                await cache.close()

        began = time.perf_counter()
        assert asyncio.run(rebuilt())
        # where the rebuild's time went: each phase seen, none counted twice
        assert phases.fetch > 0 and phases.parse > 0 and phases.fold_wait >= 0
        assert phases.fetch + phases.parse + phases.fold_wait <= time.perf_counter() - began
        mark_ready(client)
        reference = domain.fold(events)  # the whole history, tombstones included
        assert reference == domain.fold(compacted(events))
        asyncio.run(agrees(infra.redis_url, reference, persons, pupils))
        held = everything_in(infra.redis_url)
        for n, person in enumerate(persons):
            assert (person in held) == (n % 3 != 0), person
        for n, pupil in enumerate(pupils):  # erased: neither its enrolment nor any report
            assert (pupil in held) == (n % 3 != 0 or n % 10 != 0), pupil
    finally:
        client.flushdb()
        client.close()
