"""Kafka plumbing: producers with the configured idempotence, and topic creation."""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from iris.contracts import ENROLMENT_CHANGES, REPORT_CHANGES, TOPICS, Topic
from iris.settings import Settings

log = logging.getLogger(__name__)


def make_producer(settings: Settings, **overrides: object) -> AIOKafkaProducer:
    """A producer that waits for all replicas; idempotent where the broker supports it."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        "linger_ms": 2,
        "request_timeout_ms": 5000,
        "retry_backoff_ms": 200,
        "client_id": "iris",
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)  # type: ignore[arg-type]


def topic_partitions(topic: Topic, settings: Settings) -> int:
    return settings.topic_partitions or topic.partitions


# The viewer rebuilds its cache from the beginning of the change topics, so they keep every
# event: a broker's default retention (a week) would silently drop older enrolments and
# reports from a rebuild. The grants topic is compacted instead (latest per key).
KEPT_FOREVER = frozenset({ENROLMENT_CHANGES.name, REPORT_CHANGES.name})


def topic_configs(topic: Topic) -> dict[str, str]:
    if topic.compacted:
        return {"cleanup.policy": "compact"}
    if topic.name in KEPT_FOREVER:
        return {"retention.ms": "-1"}
    return {}


def new_topic(topic: Topic, settings: Settings) -> NewTopic:
    """How `ensure_topics` asks the broker for a topic (partitions, replicas, its configs)."""
    return NewTopic(
        topic.name,
        num_partitions=topic_partitions(topic, settings),
        replication_factor=settings.topic_replication_factor,
        topic_configs=topic_configs(topic),
    )


async def ensure_topics(settings: Settings, topics: tuple[Topic, ...] = TOPICS) -> list[str]:
    """Create any missing IRIS topic with its partition count (compacted where the design says)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            new = [new_topic(t, settings) for t in missing]
            try:
                response = await admin.create_topics(new)
            except TopicAlreadyExistsError:
                response = None
            refused = [
                f"{entry[0]}: error {entry[1]}" + (f" ({entry[2]})" if len(entry) > 2 else "")
                for entry in getattr(response, "topic_errors", ())
                if entry[1] not in (0, TopicAlreadyExistsError.errno)
            ]
            if refused:
                raise RuntimeError(f"the broker refused to create topics: {'; '.join(refused)}")
        return [t.name for t in missing]
    finally:
        await admin.close()


async def wait_for_broker(settings: Settings, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=2000
        )
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            last = exc
            await asyncio.sleep(0.2)
        finally:
            await admin.close()
    raise TimeoutError(f"Kafka at {settings.kafka_bootstrap} did not answer: {last!r}")
