"""Benchmarks of the running platform: publishing reports and grants through the HTTP
APIs, the authorisation check and the viewer over HTTP (revoke-to-deny in
bench/revocation.py, the cache rebuild and its Redis memory in bench/cachebench.py).
Each returns raw figures; bench/measure.py sets them beside their baselines."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import aiohttp
from redis import asyncio as aioredis

from bench.dataset import Dataset, GrantFact, ReportFact
from bench.kafkabench import Options, watch
from iris.auth import SigningKey, mint
from iris.contracts import ENROLMENT_CHANGES, REPORT_CHANGES
from iris.insz import make_insz
from iris.settings import Settings
from iris.worker_metrics import LagMeter
from services.viewer.cache import AuthCache
from services.viewer.rebuild import CHANGE_TOPICS

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


async def call(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> Answer | None:
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


async def pool(jobs: list[Callable[[], Awaitable[None]]], concurrency: int) -> None:
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
    started = time.perf_counter()
    by_pupil: dict[str, list[ReportFact]] = defaultdict(list)
    for fact in data.reports:
        by_pupil[fact.pupil_id].append(fact)
    async with http_session(concurrency) as http:
        publisher = _Publisher(http, replicas_of(urls), tokens, done, date.today().isoformat())
        jobs: list[Callable[[], Awaitable[None]]] = [
            partial(publisher.issue, facts) for facts in by_pupil.values()
        ]
        jobs += [partial(publisher.grant, i, fact) for i, fact in enumerate(data.grants)]
        random.Random(7).shuffle(jobs)
        await pool(jobs, concurrency)
    done.seconds = time.perf_counter() - started
    done.refused = dict(done.refused)
    return done


def replicas_of(urls: dict[str, str]) -> dict[str, list[str]]:
    """The URLs of each service's replicas, from the stack's (`reports`, `reports-2`, …)."""
    replicas: dict[str, list[str]] = defaultdict(list)
    for name in sorted(urls):
        service = re.fullmatch(r"([a-z]+)(-\d+)?", name)
        if service is not None:
            replicas[service.group(1)].append(urls[name])
    return dict(replicas)


@dataclass
class _Publisher:
    """One client of the reports and access APIs, counting what they took and refused."""

    http: aiohttp.ClientSession
    replicas: dict[str, list[str]]  # per service, the URLs of its replicas (`replicas_of`)
    tokens: Tokens
    done: Published
    today: str

    def replica(self, service: str, key: str) -> str:
        """The URL of one replica of `service`, chosen by `key` as a load balancer in front
        of the replicas would spread the requests."""
        replicas = self.replicas[service]
        return replicas[zlib.crc32(key.encode()) % len(replicas)]

    async def issue(self, facts: list[ReportFact]) -> None:
        http, done = self.http, self.done
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
            headers = self.tokens.person(staff_of(fact.clb_id), clb_staff_of=[fact.clb_id])
            answer = await call(
                http,
                f"{self.replica('reports', fact.pupil_id)}/v1/pupils/{fact.pupil_id}/reports",
                headers=headers,
                json=body,
            )
            if answer is None or answer.status_code != 201:
                done.refused[f"report {answer and answer.status_code}"] += 1
                continue
            done.reports += 1
            if fact.withdraw:
                report_id = answer.json()["report_id"]
                gone = await call(
                    http,
                    f"{self.replica('reports', fact.pupil_id)}/v1/reports/{report_id}/withdraw",
                    headers=headers,
                )
                if gone is not None and gone.status_code == 200:
                    done.withdrawals += 1
                else:
                    done.refused[f"withdrawal {gone and gone.status_code}"] += 1

    async def grant(self, index: int, fact: GrantFact) -> None:
        http, done = self.http, self.done
        if fact.valid_until < self.today:
            # The access API refuses a grant that has already ended; such a grant
            # exists only as history, and the viewer denies it either way.
            done.expired_skipped += 1
            return
        headers = self.tokens.person(
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
        access = self.replica("access", fact.person_id)
        school = f"{access}/v1/schools/{fact.school_id}/grants"
        answer = await call(http, school, headers=headers, json=body)
        if answer is None or answer.status_code != 200:
            done.refused[f"grant {answer and answer.status_code}"] += 1
            return
        grant_id = answer.json()["grant_id"]
        done.grants[index] = grant_id
        if fact.revoke:
            gone = await call(http, f"{school}/{grant_id}/revoke", headers=headers)
            if gone is not None and gone.status_code == 200:
                done.revoked += 1
            else:
                done.refused[f"revocation {gone and gone.status_code}"] += 1


# The workers that read the change topics, by consumer group, and what each reads.
CHANGE_READERS = {
    "iris-viewer": tuple(t.name for t in CHANGE_TOPICS),
    "iris-access": (ENROLMENT_CHANGES.name, REPORT_CHANGES.name),
}


async def wait_for_workers(settings: Settings, within: float = 900) -> float:
    """Wait until every worker that reads the change topics (CHANGE_READERS) has committed
    their ends: a measurement that starts earlier shares the machine with a backlog."""
    started = time.perf_counter()
    for group, topics in CHANGE_READERS.items():
        await _caught_up(LagMeter(settings, group, topics), started + within)
    return time.perf_counter() - started


async def _caught_up(meter: LagMeter, deadline: float) -> None:
    """Until the meter's group has no lag on any partition, or the deadline."""
    await meter.start()
    try:
        while time.perf_counter() < deadline:
            if not any((await meter.measure()).values()):
                return
            await asyncio.sleep(0.5)
    finally:
        await meter.stop()


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
