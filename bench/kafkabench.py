"""Kafka-side tools for the benchmarks: bulk publishing, plain consumers as baselines,
and watchers that time when events come out."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from kafka import KafkaProducer

from bench.dataset import EnrolmentFact
from iris.kafka import describe_partitions

# Connection options: `iris.kafka.connection_options(settings)` (bootstrap, TLS, SASL).
Options = dict[str, Any]


def registration(fact: EnrolmentFact, occurred_at: str) -> dict[str, Any]:
    """The `EnrolmentRegistered` submission school software sends for an enrolment fact."""
    event: dict[str, Any] = {
        "type": "EnrolmentRegistered",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "occurred_at": occurred_at,
        "pupil_id": fact.pupil_id,
        "school_id": fact.school_id,
        "start_date": fact.start_date,
        "source": "bench",
    }
    if fact.end_date:
        event["end_date"] = fact.end_date
    if fact.display_name:
        event["display_name"] = fact.display_name
    return event


def publish_enrolments(
    options: Options, facts: Iterable[EnrolmentFact], token_for: Callable[[str], str]
) -> tuple[int, float]:
    """Publish submissions as school software does (kafka-python, token in the header);
    `options` connect as school software's Kafka user."""
    producer = KafkaProducer(
        **options,
        acks=1,
        linger_ms=20,
        batch_size=256 * 1024,
        max_request_size=4 * 1024 * 1024,
    )
    started = time.perf_counter()
    now = datetime.now(UTC).isoformat()
    headers: dict[str, list[tuple[str, bytes]]] = {}
    count = 0
    for fact in facts:
        event = registration(fact, now)
        if fact.school_id not in headers:
            headers[fact.school_id] = [
                ("authorization", f"Bearer {token_for(fact.school_id)}".encode())
            ]
        producer.send(
            "iris.enrolment.submitted",
            key=fact.pupil_id.encode(),
            value=json.dumps(event).encode(),
            headers=headers[fact.school_id],
        )
        count += 1
    producer.flush()
    producer.close()
    return count, time.perf_counter() - started


async def partitions_of(
    options: Options, topics: list[str], within: float = 10
) -> list[TopicPartition]:
    """Every partition of `topics`, asked of the cluster; waits while a topic has none yet."""
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        deadline = time.monotonic() + within
        while True:
            found = await describe_partitions(admin, topics)
            if {tp.topic for tp in found} >= set(topics):
                return found
            missing = sorted(set(topics) - {tp.topic for tp in found})
            if time.monotonic() > deadline:
                raise RuntimeError(f"no partitions for {missing}")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def assigned(
    options: Options, topics: list[str], fetch_max_wait_ms: int = 500, latest: bool = False
) -> AIOKafkaConsumer:
    """A consumer assigned every partition of `topics`, at their beginning (or end)."""
    partitions = await partitions_of(options, topics)
    consumer = AIOKafkaConsumer(
        **options,
        fetch_max_wait_ms=fetch_max_wait_ms,
        enable_auto_commit=False,
        auto_offset_reset="latest" if latest else "earliest",
        max_partition_fetch_bytes=4 << 20,
        fetch_max_bytes=32 << 20,
    )
    await consumer.start()
    consumer.assign(partitions)
    if latest:
        await consumer.seek_to_end(*partitions)
    else:
        await consumer.seek_to_beginning(*partitions)
    return consumer


async def end_offsets(options: Options, topics: list[str]) -> int:
    consumer = await assigned(options, topics)
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        begins = await consumer.beginning_offsets(list(consumer.assignment()))
        return sum(ends[tp] - begins[tp] for tp in ends)
    finally:
        await consumer.stop()


async def plain_read(
    options: Options, topics: list[str], sizes: dict[str, int] | None = None
) -> tuple[int, float]:
    """The baseline: a plain consumer reading topics to their end without processing.
    When `sizes` is given, it receives the bytes of the values read under "bytes"."""
    consumer = await assigned(options, topics)
    try:
        assignment = list(consumer.assignment())
        ends = await consumer.end_offsets(assignment)
        total = 0
        started = time.perf_counter()
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=20000)
            total += sum(len(records) for records in batches.values())
            if sizes is not None:
                sizes["bytes"] = sizes.get("bytes", 0) + sum(
                    len(r.value or b"") for records in batches.values() for r in records
                )
            positions = [await consumer.position(tp) for tp in assignment]
            if all(pos >= ends[tp] for pos, tp in zip(positions, assignment, strict=True)):
                break
        return total, time.perf_counter() - started
    finally:
        await consumer.stop()


async def watch(
    options: Options,
    topic: str,
    expected: int,
    accept: Callable[[bytes], bool] = lambda _v: True,
    within: float = 1800,
    idle: float | None = None,
) -> dict[str, Any]:
    """Time the arrival of `expected` accepted messages on `topic` (a progress curve too);
    with `idle`, give up once that many seconds pass without a new one after the first,
    so that messages which never come end the wait instead of the whole run."""
    consumer = await assigned(options, [topic])
    seen = 0
    first = last = 0.0
    curve: list[tuple[float, int]] = []
    began = time.perf_counter()
    try:
        while seen < expected and time.perf_counter() - began < within:
            if idle is not None and seen and time.perf_counter() - last > idle:
                break
            batches = await consumer.getmany(timeout_ms=200, max_records=20000)
            now = time.perf_counter()
            fresh = sum(accept(r.value) for records in batches.values() for r in records)
            if fresh:
                if not seen:
                    first = now
                seen += fresh
                last = now
                curve.append((round(now - began, 3), seen))
        return {"seen": seen, "first": first, "last": last, "began": began, "curve": curve}
    finally:
        await consumer.stop()


async def produce_to_consume_ms(
    options: Options, count: int = 200, fetch_max_wait_ms: int = 100, replicas: int = 1
) -> list[float]:
    """The broker's own latency: a bare message from produce to consume, one at a time,
    acknowledged by every in-sync replica as the platform's producers ask, and read by a
    consumer with the platform workers' fetch wait. The topic is made for it (brokers
    that create topics on first use are not assumed)."""
    topic = f"bench.latency.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=replicas)])
    finally:
        await admin.close()
    await partitions_of(options, [topic])  # the cluster knows it before the first send
    producer = AIOKafkaProducer(**options, acks="all", linger_ms=0)
    await producer.start()
    await producer.send_and_wait(topic, b"warm-up")
    consumer = await assigned(options, [topic], fetch_max_wait_ms=fetch_max_wait_ms)
    samples = []
    try:
        await consumer.getmany(timeout_ms=1000)
        for _ in range(count):
            sent = time.perf_counter()
            await producer.send_and_wait(topic, b"x")
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=1)
                if any(batches.values()):
                    break
            samples.append((time.perf_counter() - sent) * 1000)
        return samples
    finally:
        await consumer.stop()
        await producer.stop()
