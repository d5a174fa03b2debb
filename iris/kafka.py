"""Kafka plumbing: how every client connects (TLS, SASL), producers with the configured
idempotence, and topic creation."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.partitioner import murmur2

from iris.contracts import (
    ENROLMENT_REJECTED,
    ENROLMENT_SUBMITTED,
    PARTITIONED_BY_PUPIL,
    TOPICS,
    VIEWER_AUDIT,
    VIEWER_REJECTED,
    Topic,
)
from iris.retention import Periods
from iris.settings import Settings

log = logging.getLogger(__name__)


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context of the Kafka clients, or None on a plaintext connection."""
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(
            str(settings.kafka_ssl_certfile),
            str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        )
    return context


def connection_options(settings: Settings) -> dict[str, Any]:
    """Bootstrap servers and security for a Kafka client: aiokafka's producers, consumers
    and admin clients, and kafka-python's, take the same names."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password
    return options


def make_admin(settings: Settings, request_timeout_ms: int = 5000) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        **connection_options(settings), request_timeout_ms=request_timeout_ms
    )


def make_producer(settings: Settings, **overrides: object) -> AIOKafkaProducer:
    """A producer that waits for all replicas; idempotent where the broker supports it."""
    options: dict[str, object] = {
        **connection_options(settings),
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        "linger_ms": 2,
        "request_timeout_ms": 5000,
        "retry_backoff_ms": 200,
        "client_id": "iris",
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)  # type: ignore[arg-type]


async def partition_of(producer: AIOKafkaProducer, topic: str, key: str) -> int | None:
    """The partition of a key on a topic partitioned by pupil (the key's part before ':', by
    Kafka's default hash); None elsewhere: the producer's default, by the whole key."""
    if topic not in PARTITIONED_BY_PUPIL:
        return None
    return pupil_partition(key, await producer.partitions_for(topic))


def pupil_partition(key: str, partitions: Iterable[int]) -> int:
    """Kafka's default partition of the key's part before ':' (the pupil)."""
    ordered = sorted(partitions)
    pupil = key.split(":", 1)[0].encode()
    return int(ordered[(murmur2(pupil) & 0x7FFFFFFF) % len(ordered)])


def topic_partitions(topic: Topic, settings: Settings) -> int:
    return settings.topic_partitions or topic.partitions


# The viewer rebuilds its cache from the beginning of the change topics. They are compacted
# by key (one enrolment, report version or grant): a rebuild reads each one's latest state,
# and a purged one's tombstone makes the broker drop it. None is kept for ever any more.
KEPT_FOREVER: frozenset[str] = frozenset()
# Topics that are only a passage or a record: kept as long as their retention period says
# (docs/privacy.md), then deleted by the broker. The record of views is compacted too (one
# key per view or denial): an erasure's tombstones remove a record before its period ends.
RETENTION_OF = {
    ENROLMENT_SUBMITTED.name: "intake",
    ENROLMENT_REJECTED.name: "intake",
    VIEWER_REJECTED.name: "intake",
    VIEWER_AUDIT.name: "views",
}


# Topics whose messages the broker stamps with the time it appended them (LogAppendTime), a
# time no producer can set: the enrolment worker judges a submission's token at that time.
APPEND_TIME_STAMPED: frozenset[str] = frozenset({ENROLMENT_SUBMITTED.name})
TIMESTAMP_TYPE = "message.timestamp.type"
APPEND_TIME = "LogAppendTime"
LOG_APPEND_TIME = 1
"""A record's `timestamp_type` when the broker stamped it with the time it appended it (0:
CreateTime, the time its producer gave it)."""
DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs: a setting made for the topic itself


def topic_configs(topic: Topic, settings: Settings | None = None) -> dict[str, str]:
    configs: dict[str, str] = {}
    if topic.name in APPEND_TIME_STAMPED:
        configs[TIMESTAMP_TYPE] = APPEND_TIME
    if topic.compacted:  # and deleted by time too where it has a retention period
        timed = topic.name in RETENTION_OF
        configs["cleanup.policy"] = "compact,delete" if timed else "compact"
    if topic.name in KEPT_FOREVER:
        configs["retention.ms"] = "-1"
    elif topic.name in RETENTION_OF:
        period = getattr(Periods.of(settings or Settings()), RETENTION_OF[topic.name])
        configs["retention.ms"] = str(int(period.total_seconds() * 1000))
    if settings is not None and settings.topic_min_insync_replicas:
        configs["min.insync.replicas"] = str(settings.topic_min_insync_replicas)
    return configs


def new_topic(topic: Topic, settings: Settings) -> NewTopic:
    """How `ensure_topics` asks the broker for a topic (partitions, replicas, its configs)."""
    return NewTopic(
        topic.name,
        num_partitions=topic_partitions(topic, settings),
        replication_factor=settings.topic_replication_factor,
        topic_configs=topic_configs(topic, settings),
    )


async def ensure_topics(settings: Settings, topics: tuple[Topic, ...] = TOPICS) -> list[str]:
    """Create any missing IRIS topic with its partition count and configs (compacted where
    the design says); an existing topic declared to carry append times is made to
    (`stamp_append_times`). The names of the topics created."""
    admin = make_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        if missing:
            await _create_topics(admin, [new_topic(t, settings) for t in missing])
        stamped = [t.name for t in topics if t.name in existing and t.name in APPEND_TIME_STAMPED]
        if stamped:
            await stamp_append_times(admin, stamped)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def _create_topics(admin: AIOKafkaAdminClient, new: list[NewTopic]) -> None:
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


async def stamp_append_times(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Have the broker stamp the messages of these existing topics with the time it appends
    them (topics made before they were declared so), keeping each topic's other settings.
    Where the broker cannot, the topic stays as it was and the log says so: the enrolment
    worker then judges tokens at the time it applies a submission."""
    try:
        described = await _described_configs(admin, names)
        changes = [
            ConfigResource(
                ConfigResourceType.TOPIC,
                name,
                {**_own_settings(entries), TIMESTAMP_TYPE: APPEND_TIME},
            )
            for name, entries in described.items()
            if _setting(entries, TIMESTAMP_TYPE) != APPEND_TIME
        ]
        if changes:
            _check_resources(await admin.alter_configs(changes))
            log.info("topics now stamped with append times: %s", [c.name for c in changes])
    except KafkaError as exc:
        log.warning("%s=%s not set on %s: %r", TIMESTAMP_TYPE, APPEND_TIME, names, exc)


async def _described_configs(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each topic's config entries, as the broker describes them."""
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    )
    resources = _check_resources(responses)
    return {r["resource_name"]: r["config_entries"] for r in resources}


def _check_resources(responses: list[Any]) -> list[dict[str, Any]]:
    """The resources of DescribeConfigs' or AlterConfigs' answers; KafkaError if the
    broker refused one."""
    resources = [r for response in responses for r in response.to_object()["resources"]]
    refused = [f"{r['resource_name']}: {r['error_message']}" for r in resources if r["error_code"]]
    if refused:
        raise KafkaError("; ".join(refused))
    return resources


def _setting(entries: list[dict[str, Any]], name: str) -> str | None:
    return next((e["config_value"] for e in entries if e["config_names"] == name), None)


def _own_settings(entries: list[dict[str, Any]]) -> dict[str, str]:
    """The settings made for the topic itself, which AlterConfigs replaces all at once."""

    def own(entry: dict[str, Any]) -> bool:
        if "config_source" in entry:  # DescribeConfigs v1 and later
            return bool(entry["config_source"] == DYNAMIC_TOPIC_CONFIG)
        return not entry["is_default"]

    return {
        e["config_names"]: e["config_value"]
        for e in entries
        if own(e) and e["config_value"] is not None
    }


async def describe_partitions(
    admin: AIOKafkaAdminClient, topics: list[str]
) -> list[TopicPartition]:
    """The partitions of `topics`, asked of the cluster (a client's own metadata knows only
    the topics it has subscribed to or produced to)."""
    found = await admin.describe_topics(topics)
    return sorted(
        TopicPartition(entry["topic"], part["partition"])
        for entry in found
        if entry["error_code"] == 0
        for part in entry["partitions"]
    )


async def wait_for_broker(settings: Settings, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = make_admin(settings, request_timeout_ms=2000)
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
