"""The Redis folding (Lua) against the reference decision in the domain module."""

import asyncio
import json
import logging
import random
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iris.infra import free_port, start_redis, start_redis_sentinel
from services.viewer import domain
from services.viewer.cache import (
    LEASE_REREAD_SECONDS,
    LIVE_KEY,
    READY_KEY,
    AuthCache,
    CacheNotReady,
)
from services.viewer.claims import REGISTRATIONS_WITH_REPORT, count_registrations_with_report
from services.viewer.rebuild import rebuild
from tests.support import wait_until
from tests.viewer.conftest import flush as flush_all
from tests.viewer.conftest import mark_ready, redis_client
from tests.viewer.events import enrolment, grant, insz, issued, withdrawn

pytestmark = pytest.mark.integration

PUPILS = [insz(1), insz(2)]
PERSONS = [insz(501), insz(502)]
SCHOOLS = ["100001", "100002"]
DAYS = [f"2026-09-0{d}" for d in range(1, 8)]


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module", params=["single node", "cluster"])
def redis_url(request, infra) -> str:
    """Each test of this module against one Redis node and against a Redis Cluster."""
    if request.param == "cluster":
        return str(request.getfixturevalue("redis_cluster").url)
    return str(infra.redis_url)


@pytest.fixture
def cache(redis_url, loop) -> Iterator[AuthCache]:
    cache = AuthCache.from_url(redis_url)
    yield cache
    loop.run_until_complete(cache.close())


def flush(redis_url: str, ready: bool = True) -> None:
    client = redis_client(redis_url)
    flush_all(client)
    if ready:
        mark_ready(client)
    client.close()


@st.composite
def histories(draw):
    """A random history of change events in the order their owners published them."""
    versions: dict[object, int] = {}
    issued_ids: dict[str, list[uuid.UUID]] = {p: [] for p in PUPILS}
    events = []
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["enrolment", "grant", "issue", "withdraw"]))
        pupil = draw(st.sampled_from(PUPILS))
        school = draw(st.sampled_from(SCHOOLS))
        day = draw(st.sampled_from(DAYS))
        if kind == "enrolment":
            key = ("e", pupil, school)
            versions[key] = versions.get(key, 0) + 1
            end = draw(st.none() | st.none() | st.sampled_from(DAYS))
            start = min(draw(st.sampled_from(DAYS[:3])), end) if end else day
            events.append(enrolment(pupil, school, versions[key], start=start, end=end))
        elif kind == "grant":
            person = draw(st.sampled_from(PERSONS))
            key = ("g", school, person)
            versions[key] = versions.get(key, 0) + 1
            until = draw(st.sampled_from(DAYS[2:]))
            events.append(
                grant(
                    school,
                    person,
                    versions[key],
                    role=draw(st.sampled_from(["teacher", "support_worker"])),
                    pupils=draw(st.none() | st.lists(st.sampled_from(PUPILS), max_size=2)),
                    valid_from=min(draw(st.sampled_from(DAYS[:4])), until),
                    valid_until=until,
                    status=draw(st.sampled_from(["active"] * 4 + ["revoked", "expired"])),
                )
            )
        else:
            key = ("r", pupil)
            versions[key] = versions.get(key, 0) + 1
            if kind == "issue" or not issued_ids[pupil]:
                rid = uuid.uuid4()
                issued_ids[pupil].append(rid)
                events.append(issued(pupil, versions[key], valid_from=day, report_id=rid))
            else:
                rid = draw(st.sampled_from(issued_ids[pupil]))
                events.append(withdrawn(pupil, rid, versions[key], on=day))
    return events


def delivered(events, rng: random.Random):
    """At-least-once delivery: duplicates, and any order."""
    out = events + [rng.choice(events) for _ in range(len(events) // 2)]
    rng.shuffle(out)
    return out


def fold_in_batches(cache, loop, events, rng):
    n = 0
    while n < len(events):
        size = rng.randint(1, 6)
        loop.run_until_complete(cache.fold(events[n : n + size]))
        n += size


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=histories(), seed=st.integers(0, 2**32))
def test_every_decision_from_redis_agrees_with_the_reference_whatever_the_delivery_order(
    redis_url, cache, loop, events, seed
):
    rng = random.Random(seed)
    flush(redis_url)
    fold_in_batches(cache, loop, delivered(events, rng), rng)
    reference = domain.fold(events)
    for person in PERSONS:
        for pupil in PUPILS:
            for day in DAYS:
                for school in [None, *SCHOOLS]:
                    expected = domain.may_view(person, pupil, day, reference, school)
                    got = loop.run_until_complete(cache.check(person, pupil, day, school))
                    assert got == expected, (person, pupil, day, school)


def test_an_empty_cache_without_its_ready_marker_denies_with_the_reason(redis_url, cache, loop):
    flush(redis_url, ready=False)
    loop.run_until_complete(
        cache.fold(
            [enrolment(PUPILS[0], SCHOOLS[0]), grant(SCHOOLS[0], PERSONS[0]), issued(PUPILS[0])]
        )
    )
    decision = loop.run_until_complete(cache.check(PERSONS[0], PUPILS[0], DAYS[0]))
    assert decision == domain.Decision(False, domain.CACHE_NOT_READY)


def test_a_built_cache_whose_freshness_lease_lapsed_denies_every_check_and_listing(
    redis_url, cache, loop
):
    flush(redis_url)
    loop.run_until_complete(
        cache.fold(
            [enrolment(PUPILS[0], SCHOOLS[0]), grant(SCHOOLS[0], PERSONS[0]), issued(PUPILS[0])]
        )
    )
    assert loop.run_until_complete(cache.check(PERSONS[0], PUPILS[0], DAYS[3])).allowed
    client = redis_client(redis_url)
    client.delete(LIVE_KEY)  # what its TTL does when no worker renews it
    client.close()
    # on a cluster a process trusts what it read of the lease for up to a second
    wait_until(
        lambda: (
            loop.run_until_complete(cache.check(PERSONS[0], PUPILS[0], DAYS[3])).reason
            == domain.CACHE_NOT_CURRENT
        ),
        timeout=LEASE_REREAD_SECONDS + 5,
        message="the check denied once the lease is gone",
    )
    for school in (None, SCHOOLS[0]):
        decision = loop.run_until_complete(cache.check(PERSONS[0], PUPILS[0], DAYS[3], school))
        assert decision == domain.Decision(False, domain.CACHE_NOT_CURRENT)
    with pytest.raises(CacheNotReady, match=domain.CACHE_NOT_CURRENT):
        loop.run_until_complete(cache.school_listing(SCHOOLS[0], PERSONS[0]))
    assert loop.run_until_complete(cache.readiness()) == domain.CACHE_NOT_CURRENT


def test_an_unreachable_redis_denies_every_check_and_warns_once_not_per_check(loop, caplog):
    unreachable = AuthCache.from_url("redis://127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING, logger="services.viewer.cache"):
        decisions = [
            loop.run_until_complete(unreachable.check(PERSONS[0], PUPILS[0], DAYS[0]))
            for _ in range(20)
        ]
    loop.run_until_complete(unreachable.close())
    assert not any(d.allowed for d in decisions)
    assert all(d.reason.startswith("authorisation cache unavailable") for d in decisions)
    warned = [r for r in caplog.records if r.getMessage().startswith("check denied")]
    assert len(warned) <= 1  # none when an earlier test warned of it within ten seconds


def test_the_school_listing_reads_enrolments_reports_and_the_grant_of_one_school(
    redis_url, cache, loop
):
    flush(redis_url)
    loop.run_until_complete(
        cache.fold(
            [
                issued(PUPILS[0], valid_from="2026-09-01"),
                enrolment(PUPILS[0], SCHOOLS[0], start="2026-09-01"),
                grant(SCHOOLS[0], PERSONS[0], pupils=[PUPILS[0]]),
            ]
        )
    )
    enrolments, reports, held = loop.run_until_complete(
        cache.school_listing(SCHOOLS[0], PERSONS[0])
    )
    listed = domain.pupils_with_report("2026-09-02", enrolments, reports, held, False)
    assert [p.pupil_id for p in listed] == [PUPILS[0]]


def test_a_rebuild_removes_an_older_layout_so_a_viewer_still_reading_it_denies(
    redis_url, viewer_settings, cache, loop
):
    client = redis_client(redis_url)
    flush(redis_url, ready=False)
    client.set("iris:v1:ready", json.dumps({"offsets": {}}))
    client.hset("iris:v1:{100001}:grant", PERSONS[0], '{"v":1}')
    client.sadd(f"iris:v1:pupil:{{{PUPILS[0]}}}:schools", SCHOOLS[0])
    client.set("iris:v2:ready", json.dumps({"offsets": {}}))
    client.hset("iris:v2:{100001}:grant", PERSONS[0], '{"v":1}')
    client.hset("iris:v2:persons:7", PERSONS[0], SCHOOLS[0])
    client.set("iris:v3:{ctl}:ready", json.dumps({"offsets": {}}))
    client.hset("iris:v3:{100001}:grant", PERSONS[0], '{"v":1,"r":"teacher"}')
    settings = viewer_settings.model_copy(update={"redis_url": redis_url})
    try:
        assert loop.run_until_complete(rebuild(cache, settings))
        assert [client.keys(f"iris:v{n}:*") for n in (1, 2, 3)] == [[], [], []]
        assert client.exists(READY_KEY)
    finally:
        client.close()


def test_the_same_cache_works_through_redis_sentinel(tmp_path, loop):
    master_port, sentinel_port = free_port(), free_port()
    master = start_redis(master_port, tmp_path)
    sentinel = start_redis_sentinel(sentinel_port, master_port, tmp_path, "iris")
    cache = AuthCache.from_url(sentinel.url)
    try:
        loop.run_until_complete(
            cache.fold(
                [enrolment(PUPILS[0], SCHOOLS[0]), grant(SCHOOLS[0], PERSONS[0]), issued(PUPILS[0])]
            )
        )
        client = redis_client(f"redis://127.0.0.1:{master_port}/0")
        mark_ready(client)
        client.close()
        assert loop.run_until_complete(cache.check(PERSONS[0], PUPILS[0], DAYS[3])).allowed
        assert not loop.run_until_complete(cache.check(PERSONS[1], PUPILS[0], DAYS[3])).allowed
    finally:
        loop.run_until_complete(cache.close())
        sentinel.stop()
        master.stop()


def counted(school: str) -> float:
    return REGISTRATIONS_WITH_REPORT.labels(school)._value.get()


def test_first_registrations_of_pupils_with_a_report_are_counted_per_school(redis_url, cache, loop):
    flush(redis_url)
    reported, unreported = PUPILS[0], PUPILS[1]
    school, other = SCHOOLS[0], SCHOOLS[1]
    loop.run_until_complete(cache.fold([issued(reported)]))
    before = counted(school), counted(other)
    batch = [
        enrolment(reported, school),  # first registration of a pupil with a report
        enrolment(unreported, school),  # no report: not counted
        enrolment(reported, other, version=2),  # a later version: not a new registration
    ]
    loop.run_until_complete(cache.fold(batch))
    assert loop.run_until_complete(count_registrations_with_report(cache, batch)) == 1
    assert (counted(school), counted(other)) == (before[0] + 1, before[1])
