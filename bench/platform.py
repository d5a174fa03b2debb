"""Benchmarks of the running platform: publishing reports and grants through the HTTP
APIs, the authorisation check, the viewer over HTTP, revoke-to-deny, the cache rebuild
and its Redis memory. Each returns raw figures; bench/run.py sets them beside their
baselines."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer
from redis import asyncio as aioredis

from bench import hops
from bench.dataset import Dataset, GrantFact, ReportFact
from bench.kafkabench import Options, assigned, partitions_of, watch
from iris.auth import SigningKey, mint
from iris.insz import make_insz
from iris.settings import Settings
from services.viewer.cache import PREFIX, AuthCache
from services.viewer.rebuild import CHANGE_TOPICS, rebuild

CONTENT = {
    "needs": "Ondersteuning bij lezen en schrijven.",
    "advice": "Extra instructietijd en aangepaste toetsen.",
    "measures_taken": "Remediëring in kleine groep gedurende een trimester.",
    "reasoning": "De maatregelen volstaan niet om het gemeenschappelijk curriculum te volgen.",
}


@dataclass
class Tokens:
    """Bearer tokens from the development issuer, minted once per subject."""

    key: SigningKey
    settings: Settings
    _made: dict[tuple[str, str], str] = field(default_factory=dict)

    def person(self, subject: str, **claims: Any) -> dict[str, str]:
        claims.setdefault("amr", ["itsme"])  # signed in with itsme, as people are
        index = (subject, repr(sorted(claims.items())))
        if index not in self._made:
            self._made[index] = mint(
                self.key,
                self.settings.oidc_issuer,
                subject,
                self.settings.audience,
                ttl_seconds=3 * 3600,
                **claims,
            )
        return {"Authorization": f"Bearer {self._made[index]}"}


def staff_of(clb_id: str) -> str:
    return make_insz("1970-01-01", 1 + int(clb_id) % 990)


def responsible_of(school_id: str) -> str:
    return make_insz("1965-06-15", 1 + int(school_id) % 990)


@dataclass
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_session(concurrency: int, timeout: float = 60) -> aiohttp.ClientSession:
    """The load generator's client: aiohttp, which costs the shared CPU a fraction of what
    httpx does per request, so that the servers under test get the machine."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency, force_close=False),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )


async def _call(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> Answer | None:
    """POST with a few retries when the connection breaks (a server closing an idle
    keep-alive connection); None when it keeps failing."""
    for attempt in range(4):
        try:
            async with http.post(url, **kwargs) as answer:
                return Answer(answer.status, await answer.read())
        except (TimeoutError, aiohttp.ClientError):
            await asyncio.sleep(0.2 * (attempt + 1))
    return None


async def _get(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> int:
    async with http.get(url, headers=headers) as answer:
        await answer.read()
        return answer.status


async def _pool(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    queue = iter(jobs)

    async def worker() -> None:
        for job in queue:
            await job()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


@dataclass
class Published:
    reports: int = 0
    withdrawals: int = 0
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    grants: dict[int, str] = field(default_factory=dict)  # index in data.grants -> grant_id
    revoked: int = 0
    expired_skipped: int = 0
    seconds: float = 0.0


async def publish_reports_and_grants(
    urls: dict[str, str], tokens: Tokens, data: Dataset, concurrency: int = 24
) -> Published:
    """Issue every report version (in order per pupil) and withdrawal through the reports
    API, and every grant and revocation through the access API, `concurrency` at a time."""
    done = Published()
    today = date.today().isoformat()
    started = time.perf_counter()
    by_pupil: dict[str, list[ReportFact]] = defaultdict(list)
    for fact in data.reports:
        by_pupil[fact.pupil_id].append(fact)
    async with http_session(concurrency) as http:

        async def issue(facts: list[ReportFact]) -> None:
            for fact in facts:
                body: dict[str, Any] = {
                    "kind": fact.kind,
                    "clb_id": fact.clb_id,
                    "valid_from": fact.valid_from,
                    "level": fact.level,
                    "content": CONTENT,
                }
                if fact.type:
                    body["type"] = fact.type
                if fact.opleidingsvorm:
                    body["opleidingsvorm"] = int(fact.opleidingsvorm)
                headers = tokens.person(staff_of(fact.clb_id), clb_staff_of=[fact.clb_id])
                answer = await _call(
                    http,
                    f"{urls['reports']}/v1/pupils/{fact.pupil_id}/reports",
                    headers=headers,
                    json=body,
                )
                if answer is None or answer.status_code != 201:
                    done.refused[f"report {answer and answer.status_code}"] += 1
                    continue
                done.reports += 1
                if fact.withdraw:
                    report_id = answer.json()["report_id"]
                    gone = await _call(
                        http, f"{urls['reports']}/v1/reports/{report_id}/withdraw", headers=headers
                    )
                    if gone is not None and gone.status_code == 200:
                        done.withdrawals += 1
                    else:
                        done.refused[f"withdrawal {gone and gone.status_code}"] += 1

        async def grant(index: int, fact: GrantFact) -> None:
            if fact.valid_until < today:
                # The access API refuses a grant that has already ended; such a grant
                # exists only as history, and the viewer denies it either way.
                done.expired_skipped += 1
                return
            headers = tokens.person(
                responsible_of(fact.school_id), school_admin_of=[fact.school_id]
            )
            body: dict[str, Any] = {
                "person_id": fact.person_id,
                "role": fact.role,
                "valid_from": fact.valid_from,
                "valid_until": fact.valid_until,
            }
            if fact.pupil_ids:
                body["pupil_ids"] = fact.pupil_ids
            school = f"{urls['access']}/v1/schools/{fact.school_id}/grants"
            answer = await _call(http, school, headers=headers, json=body)
            if answer is None or answer.status_code != 200:
                done.refused[f"grant {answer and answer.status_code}"] += 1
                return
            grant_id = answer.json()["grant_id"]
            done.grants[index] = grant_id
            if fact.revoke:
                gone = await _call(http, f"{school}/{grant_id}/revoke", headers=headers)
                if gone is not None and gone.status_code == 200:
                    done.revoked += 1
                else:
                    done.refused[f"revocation {gone and gone.status_code}"] += 1

        jobs: list[Callable[[], Awaitable[None]]] = [
            partial(issue, facts) for facts in by_pupil.values()
        ]
        jobs += [partial(grant, i, fact) for i, fact in enumerate(data.grants)]
        random.Random(7).shuffle(jobs)
        await _pool(jobs, concurrency)
    done.seconds = time.perf_counter() - started
    done.refused = dict(done.refused)
    return done


async def wait_for_viewer(
    options: Options, group: str = "iris-viewer", within: float = 900
) -> float:
    """Wait until the viewer worker's group has committed the end of every change topic."""
    started = time.perf_counter()
    partitions = await partitions_of(options, [t.name for t in CHANGE_TOPICS])
    consumer = AIOKafkaConsumer(**options, group_id=group)
    await consumer.start()
    try:
        while time.perf_counter() - started < within:
            ends = await consumer.end_offsets(partitions)
            behind = 0
            for tp in partitions:
                committed = await consumer.committed(tp) or 0
                behind += max(0, ends[tp] - committed)
            if behind == 0:
                break
            await asyncio.sleep(0.5)
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def wait_for_topics(options: Options, expected: dict[str, int], within: float = 900) -> None:
    """Wait until each topic holds at least the expected number of messages, counted by
    reading them (the embedded broker's end offsets can lag behind its last batch)."""
    for topic, count in expected.items():
        await watch(options, topic, count, within=within)


# -- the authorisation check ----------------------------------------------------------------


def viewing_pairs(data: Dataset, published: Published, limit: int) -> list[tuple[str, str, str]]:
    """(person, pupil, school) a whole-school grant should let view a current report."""
    today = date.today().isoformat()
    withdrawn = {r.pupil_id for r in data.reports if r.withdraw}
    reported = {r.pupil_id for r in data.reports if r.valid_from <= today} - withdrawn
    at_school: dict[str, list[str]] = defaultdict(list)
    for e in data.enrolments:
        if (
            e.pupil_id in reported
            and e.start_date <= today
            and (e.end_date is None or e.end_date >= today)
        ):
            at_school[e.school_id].append(e.pupil_id)
    pairs = []
    for index, g in enumerate(data.grants):
        if index not in published.grants or g.revoke or g.pupil_ids:
            continue
        if not (g.valid_from <= today <= g.valid_until) or g.role == "support_worker":
            continue
        for pupil in at_school.get(g.school_id, [])[:3]:
            pairs.append((g.person_id, pupil, g.school_id))
        if len(pairs) >= limit:
            break
    return pairs[:limit]


async def check_latency(
    redis_url: str, pairs: list[tuple[str, str, str]], samples: int
) -> dict[str, Any]:
    """The one-round-trip check against PING on the same connection, interleaved."""
    client = aioredis.Redis.from_url(redis_url, max_connections=1)
    cache = AuthCache(client)
    today = date.today().isoformat()
    rng = random.Random(11)
    check_ms: list[float] = []
    ping_ms: list[float] = []
    allowed = 0
    try:
        for _ in range(200):  # warm up: script cache, connection
            await client.ping()
            person, pupil, _school = rng.choice(pairs)
            await cache.check(person, pupil, today)
        for _ in range(samples):
            person, pupil, _school = rng.choice(pairs)
            t0 = time.perf_counter()
            decision = await cache.check(person, pupil, today)
            t1 = time.perf_counter()
            await client.ping()
            t2 = time.perf_counter()
            check_ms.append((t1 - t0) * 1000)
            ping_ms.append((t2 - t1) * 1000)
            allowed += decision.allowed
    finally:
        await client.aclose()  # type: ignore[attr-defined]
    return {"check_ms": check_ms, "ping_ms": ping_ms, "allowed": allowed}


# -- the viewer over HTTP -------------------------------------------------------------------


async def http_load(
    url_for: Callable[[int], tuple[str, dict[str, str]]],
    concurrency: int,
    seconds: float,
    expect: int = 200,
) -> dict[str, Any]:
    """Closed-loop load: `concurrency` clients each sending the next request when the last
    answered, for `seconds`. Returns throughput, latencies and any unexpected statuses."""
    latencies: list[float] = []
    wrong: dict[int, int] = defaultdict(int)
    async with http_session(concurrency, timeout=30) as http:
        # open the connections (and make the tokens) before the clock starts
        await asyncio.gather(*(_get(http, *url_for(n)) for n in range(concurrency)))
        counter = iter(range(10**9))
        stop = time.perf_counter() + seconds

        async def client() -> None:
            while time.perf_counter() < stop:
                url, headers = url_for(next(counter))
                t0 = time.perf_counter()
                status = await _get(http, url, headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                if status != expect:
                    wrong[status] += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "latency_ms": latencies,
        "requests": len(latencies),
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed,
        "unexpected": dict(wrong),
    }


# -- revoke-to-deny -------------------------------------------------------------------------


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
    made: list[tuple[str, str, str, str]] = []  # person, pupil, school, grant_id
    on_topic: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    # wall-clock stamps for the per-hop split (bench/hops.py)
    stamps: dict[str, dict[str, float]] = {
        name: {} for name in ("answered", "produced", "received", "denied")
    }
    try:
        async with http_session(16, timeout=30) as http:

            async def grant(n: int) -> None:
                _holder, pupil, school = pairs[n % len(pairs)]
                person = (
                    make_insz("1990-02-02", 1 + n % 990)
                    if n < 990
                    else make_insz("1991-03-03", 1 + n % 990)
                )
                headers = tokens.person(responsible_of(school), school_admin_of=[school])
                answer = await _call(
                    http,
                    f"{urls['access']}/v1/schools/{school}/grants",
                    headers=headers,
                    json={"person_id": person, "role": "teacher", "valid_from": "2026-09-01"},
                )
                if answer is not None and answer.status_code == 200:
                    made.append((person, pupil, school, answer.json()["grant_id"]))

            await _pool([partial(grant, n) for n in range(count)], 16)
            ready: list[tuple[str, str, str, str]] = []
            for item in made:
                deadline = time.perf_counter() + 10
                while time.perf_counter() < deadline:
                    if (await cache.check(item[0], item[1], today)).allowed:
                        ready.append(item)
                        break
                    await asyncio.sleep(0.01)
            listening = asyncio.create_task(_listen_for_revocations(kafka, on_topic, stamps))
            await asyncio.sleep(1.0)  # the listener joins at the end of the topic

            async def revoke(item: tuple[str, str, str, str]) -> None:
                nonlocal lost
                person, pupil, school, grant_id = item
                headers = tokens.person(responsible_of(school), school_admin_of=[school])
                answer = await _call(
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
            await _pool([partial(revoke, item) for item in ready], lanes)
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


# -- rebuild and memory ---------------------------------------------------------------------


class _TimedCache(AuthCache):
    """The viewer's cache, counting folded events over time for the progress curve."""

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client)
        self.began = time.perf_counter()
        self.folded = 0
        self.curve: list[tuple[float, int]] = []

    async def fold(self, events: list[Any]) -> None:
        await super().fold(events)
        self.folded += len(events)
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
    if part == "report":
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
    ready = await rebuild(cache, settings.model_copy(update={"redis_url": url}))
    seconds = time.perf_counter() - cache.began
    after = (await client.info("memory"))["used_memory"]
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # kind -> [keys, bytes]
    batch: list[bytes] = []

    async def weigh(keys: list[bytes]) -> None:
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
            await weigh(batch)
            batch = []
    if batch:
        await weigh(batch)
    await client.flushdb()
    await client.aclose()  # type: ignore[attr-defined]
    pupils = len({e.pupil_id for e in data.enrolments})
    grant_bytes = sum(b for k, (_n, b) in kinds.items() if k in ("school grant", "person index"))
    pupil_bytes = sum(
        b
        for k, (_n, b) in kinds.items()
        if k in ("school enr", "school rep", "pupil report", "pupil index")
    )
    return {
        "ready": ready,
        "events": cache.folded,
        "seconds": seconds,
        "curve": cache.curve,
        "used_memory_before": before,
        "used_memory_after": after,
        "cache_bytes": after - before,
        "keys": {k: {"keys": n, "bytes": b} for k, (n, b) in sorted(kinds.items())},
        "bytes_per_pupil": pupil_bytes / max(pupils, 1),
        "bytes_per_grant": grant_bytes / max(len(data.grants), 1),
        "pupils": pupils,
        "grants": len(data.grants),
    }
