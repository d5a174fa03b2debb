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
from kafka import KafkaProducer

from bench.dataset import EnrolmentFact


def publish_enrolments(
    bootstrap: str, facts: Iterable[EnrolmentFact], token_for: Callable[[str], str]
) -> tuple[int, float]:
    """Publish submissions as school software does (kafka-python, token in the header)."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
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
        event = {
            "type": "EnrolmentRegistered",
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "occurred_at": now,
            "pupil_id": fact.pupil_id,
            "school_id": fact.school_id,
            "start_date": fact.start_date,
            "source": "bench",
        }
        if fact.end_date:
            event["end_date"] = fact.end_date
        if fact.display_name:
            event["display_name"] = fact.display_name
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


async def _assigned(
    bootstrap: str, topics: list[str], fetch_max_wait_ms: int = 500
) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        fetch_max_wait_ms=fetch_max_wait_ms,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 << 20,
        fetch_max_bytes=32 << 20,
    )
    await consumer.start()
    partitions = []
    for topic in topics:
        for p in consumer.partitions_for_topic(topic) or await _wait_partitions(consumer, topic):
            partitions.append(TopicPartition(topic, p))
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer


async def _wait_partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(100):
        await consumer.topics()
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions")


async def end_offsets(bootstrap: str, topics: list[str]) -> int:
    consumer = await _assigned(bootstrap, topics)
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        begins = await consumer.beginning_offsets(list(consumer.assignment()))
        return sum(ends[tp] - begins[tp] for tp in ends)
    finally:
        await consumer.stop()


async def plain_read(
    bootstrap: str, topics: list[str], sizes: dict[str, int] | None = None
) -> tuple[int, float]:
    """The baseline: a plain consumer reading topics to their end without processing.
    When `sizes` is given, it receives the bytes of the values read under "bytes"."""
    consumer = await _assigned(bootstrap, topics)
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
    bootstrap: str,
    topic: str,
    expected: int,
    accept: Callable[[bytes], bool] = lambda _v: True,
    within: float = 1800,
) -> dict[str, Any]:
    """Time the arrival of `expected` accepted messages on `topic` (a progress curve too)."""
    consumer = await _assigned(bootstrap, [topic])
    seen = 0
    first = last = 0.0
    curve: list[tuple[float, int]] = []
    began = time.perf_counter()
    try:
        while seen < expected and time.perf_counter() - began < within:
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
    bootstrap: str, count: int = 200, fetch_max_wait_ms: int = 100
) -> list[float]:
    """The broker's own latency: a bare message from produce to consume, one at a time,
    read by a consumer with the platform workers' fetch wait."""
    topic = f"bench.latency.{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=1, linger_ms=0)
    await producer.start()
    await producer.send_and_wait(topic, b"warm-up")
    consumer = await _assigned(bootstrap, [topic], fetch_max_wait_ms=fetch_max_wait_ms)
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
