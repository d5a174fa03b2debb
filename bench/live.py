"""Load that runs beside a measurement, each in a process of its own so that it never
shares the measuring process's interpreter: a live stream of enrolment changes for the
viewer to fold, submissions for the enrolment workers to apply, and readers of the report
page. Their pupils are born in 2022, after every pupil of the data set, so the load never
touches a pupil that a measurement checks."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from iris.contracts import ENROLMENT_CHANGES, ENROLMENT_SUBMITTED, enrolment_key
from iris.insz import make_insz
from iris.settings import Settings

PUPILS = 5_000  # the live load's pupils, each changed again and again
CHANGES_PER_SECOND = 2_000  # beside the check: enrolment changes the viewer folds
SUBMISSIONS_PER_SECOND = 500  # beside revoke-to-deny: submissions the workers apply
TICK = 0.01  # seconds between the load's bursts


def live_pupil(n: int) -> str:
    birth = date(2022, 1, 1) + timedelta(days=n % 365)
    return make_insz(birth.isoformat(), 1 + n // 365 % 997)


@contextmanager
def running(target: Callable[..., None], *args: Any) -> Iterator[dict[str, float]]:
    """Run `target(load, *args)` in a process of its own while the block runs, which
    starts once the load has set `load.ready`; afterwards the dict holds how many events
    it sent (`load.count`), in how many seconds."""
    context = multiprocessing.get_context("spawn")
    load = Load(context.Event(), context.Event(), context.Value("q", 0))
    process = context.Process(target=target, args=(load, *args), daemon=True)
    process.start()
    while not load.ready.wait(1):
        if not process.is_alive():
            raise RuntimeError(f"the live load {target.__name__} stopped before it began")
    started = time.perf_counter()
    stats: dict[str, float] = {}
    try:
        yield stats
    finally:
        load.stop.set()
        process.join(30)
        if process.is_alive():
            process.kill()
        seconds = time.perf_counter() - started
        sent = load.count.value
        stats.update(events=sent, seconds=seconds, per_second=sent / seconds)


@dataclass(frozen=True)
class Load:
    """What a load process shares with the measurement: set `ready` once connected, stop
    when `stop` is set, and keep `count` at the number of events sent."""

    ready: Any
    stop: Any
    count: Any


async def _paced(load: Load, rate: float, send: Callable[[range], Awaitable[None]]) -> None:
    """Send `rate` events a second, in bursts every TICK, until told to stop: set
    `load.ready`, then `send(burst)` sends the events numbered `burst` (from 0 on), and
    `load.count` follows each burst."""
    load.ready.set()
    started, sent = time.perf_counter(), 0
    while not load.stop.is_set():
        due = int((time.perf_counter() - started) * rate)
        if due > sent:
            await send(range(sent, due))
            sent = due
        load.count.value = sent
        await asyncio.sleep(TICK)


def changes(load: Load, settings: Settings, school: str, rate: float) -> None:
    """Publish `rate` EnrolmentChanged events a second, as the enrolment service does
    (settings as its Kafka user), each a newer version of one of PUPILS enrolments."""
    asyncio.run(_changes(load, settings, school, rate))


async def _changes(load: Load, settings: Settings, school: str, rate: float) -> None:
    from iris.kafka import make_producer, pupil_partition
    from services.enrolment.domain import Enrolment
    from services.enrolment.repository import changed_payload

    producer = make_producer(settings)
    await producer.start()
    try:
        partitions = await producer.partitions_for(ENROLMENT_CHANGES.name)

        async def send(burst: range) -> None:
            now = datetime.now(UTC)
            for n in burst:
                pupil = live_pupil(n % PUPILS)
                start = date(2026, 9, 1) + timedelta(days=n // PUPILS % 28)
                enrolment = Enrolment(pupil, school, start, None, None, 1 + n // PUPILS)
                key = enrolment_key(pupil, school)
                await producer.send(
                    ENROLMENT_CHANGES.name,
                    changed_payload(enrolment, uuid.uuid4(), now).encode(),
                    key=key.encode(),
                    partition=pupil_partition(key, partitions),
                )

        await _paced(load, rate, send)
        await producer.flush()
    finally:
        await producer.stop()


def submissions(load: Load, settings: Settings, school: str, rate: float) -> None:
    """Publish `rate` submissions a second as school software does (kafka-python; settings
    as the school's Kafka user), each moving one of PUPILS enrolments to a new start date,
    so that each becomes a change."""
    import orjson
    from kafka import KafkaProducer

    from bench.dataset import EnrolmentFact
    from bench.kafkabench import registration
    from iris.auth import dev_issuer_key, mint
    from iris.kafka import connection_options

    token = mint(
        dev_issuer_key(settings),
        settings.oidc_issuer,
        f"client:bench-{school}",
        settings.audience,
        ttl_seconds=settings.submission_token_max_lifetime_seconds,
        school_id=school,
    )
    headers = [("authorization", f"Bearer {token}".encode())]
    producer = KafkaProducer(**connection_options(settings), acks=1, linger_ms=5)

    async def send(burst: range) -> None:
        for n in burst:
            pupil = live_pupil(PUPILS + n % PUPILS)  # not the pupils of the changes above
            start = date(2026, 9, 1) + timedelta(days=n // PUPILS % 28)
            fact = EnrolmentFact(pupil, school, start.isoformat())
            event = registration(fact, datetime.now(UTC).isoformat())
            producer.send(
                ENROLMENT_SUBMITTED.name,
                key=pupil.encode(),
                value=orjson.dumps(event),
                headers=headers,
            )

    try:
        asyncio.run(_paced(load, rate, send))
        producer.flush()
    finally:
        producer.close()


def readers(load: Load, settings: Settings, viewer: str, pairs: list[tuple[str, str, str]]) -> None:
    """16 clients reading report pages of `pairs`, each the next when the last answered."""
    asyncio.run(_readers(load, settings, viewer, pairs))


async def _readers(
    load: Load, settings: Settings, viewer: str, pairs: list[tuple[str, str, str]]
) -> None:
    from bench.platform import Tokens, _get, http_session
    from iris.auth import dev_issuer_key

    tokens = Tokens(dev_issuer_key(settings), settings)
    headers = [tokens.person(person, name="Leraar") for person, _pupil, _school in pairs]
    async with http_session(16, timeout=30) as http:
        load.ready.set()

        async def client(lane: int) -> None:
            n = lane
            while not load.stop.is_set():
                _person, pupil, _school = pairs[n % len(pairs)]
                await _get(http, f"{viewer}/pupils/{pupil}/report", headers[n % len(pairs)])
                with load.count.get_lock():
                    load.count.value += 1
                n += 16

        await asyncio.gather(*(client(lane) for lane in range(16)))
