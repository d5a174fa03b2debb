"""On Apache Kafka, which stamps `iris.enrolment.submitted` with the time it appends each
message (LogAppendTime): a submission whose token was valid when it reached the broker is
applied after a worker outage longer than the token lives, and a message whose token had
expired when it reached the broker (a replay) is refused. The topic is made as a deployment
from before append times had it (CreateTime); `iris topics` then changes it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import jwt
import pytest
from aiokafka.admin import NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from iris import apache_kafka
from iris.contracts import ENROLMENT_SUBMITTED
from iris.insz import make_insz
from iris.kafka import LOG_APPEND_TIME, ensure_topics, make_admin
from iris.settings import Settings
from tests.conftest import TEST_PARTITIONS, settings_env
from tests.enrolment.test_kafka_ingestion import SCHOOL, registration
from tests.support import TopicReader, iris_process, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not apache_kafka.installed(), reason="Apache Kafka is not installed"),
]

SUBMITTED = ENROLMENT_SUBMITTED.name
EARLIER_RETENTION_MS = "123456789"  # a setting of the topic's own that the change keeps
LEEWAY = 1
TOKEN_LIFE = 4


async def make_topics_as_before(settings: Settings) -> None:
    """The submitted topic as `iris topics` made it before append times: CreateTime."""
    admin = make_admin(settings, request_timeout_ms=30000)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    SUBMITTED,
                    TEST_PARTITIONS,
                    1,
                    topic_configs={"retention.ms": EARLIER_RETENTION_MS},
                )
            ]
        )
    finally:
        await admin.close()


def topic_settings(bootstrap: str) -> dict[str, object]:
    """The submitted topic's settings that differ from the broker's defaults."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, SUBMITTED)])
    finally:
        admin.close()
    return {
        name: entry.get("value") if isinstance(entry, dict) else entry
        for name, entry in described["topic"][SUBMITTED].items()
    }


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An Apache Kafka broker whose topics were made earlier, then by `iris topics`."""
    cluster = apache_kafka.ApacheKafka(tmp_path_factory.mktemp("kafka"))
    try:
        cluster.start()
        settings = Settings(kafka_bootstrap=cluster.bootstrap, topic_partitions=TEST_PARTITIONS)
        asyncio.run(make_topics_as_before(settings))
        asyncio.run(ensure_topics(settings))
        # the controller accepted the change; each broker applies it moments later
        wait_until(
            lambda: (
                topic_settings(cluster.bootstrap).get("message.timestamp.type") == "LogAppendTime"
            ),
            timeout=30,
            interval=0.2,
            message="the submitted topic stamped with append times",
        )
        yield cluster.bootstrap
    finally:
        cluster.stop()


@pytest.fixture
def worker(make_settings, kafka, tmp_path) -> Callable[[], AbstractContextManager[Any]]:
    """Starts the enrolment worker on the broker (1 s clock leeway, tokens of 5 s at most)."""
    settings = make_settings(
        "enrolment", kafka_bootstrap=kafka, kafka_idempotence=True, token_leeway_seconds=LEEWAY
    )
    env = {
        **settings_env(settings),
        "IRIS_TOKEN_LEEWAY_SECONDS": str(LEEWAY),
        "IRIS_SUBMISSION_TOKEN_MAX_LIFETIME_SECONDS": "5",
    }
    return lambda: iris_process(["worker", "enrolment"], env, tmp_path / "worker.log")


def submit(bootstrap: str, key: str, value: bytes, token: str) -> None:
    """Publish as school software does (kafka-python, examples/school_system.py)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        headers = [("authorization", f"Bearer {token}".encode())]
        producer.send(SUBMITTED, key=key.encode(), value=value, headers=headers).get(30)
    finally:
        producer.close()


def stamps(bootstrap: str, key: str) -> list[tuple[int, float]]:
    """(timestamp type, timestamp in s) of each message under `key` on the submitted topic."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=200)
    try:
        partitions = [KafkaPartition(SUBMITTED, p) for p in range(TEST_PARTITIONS)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(partitions)
        found: list[tuple[int, float]] = []

        def read_to_end() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                found.extend(
                    (r.timestamp_type, r.timestamp / 1000) for r in records if r.key == key.encode()
                )
            return all(consumer.position(tp) >= end for tp, end in ends.items())

        wait_until(read_to_end, timeout=30, interval=0.0, message="the submitted topic's end")
        return found
    finally:
        consumer.close()


def expiry(token: str) -> float:
    return float(jwt.decode(token, options={"verify_signature": False})["exp"])


def wait_past(moment: float) -> None:
    """Wait until the clock is past `moment` and the worker's leeway."""
    wait_until(
        lambda: time.time() > moment + LEEWAY + 0.5,
        timeout=TOKEN_LIFE + LEEWAY + 10,
        message="the token to expire",
    )


def test_iris_topics_has_an_existing_submitted_topic_stamped_and_keeps_its_settings(kafka):
    assert topic_settings(kafka)["retention.ms"] == EARLIER_RETENTION_MS


def test_a_backlog_older_than_its_tokens_is_applied_once_the_worker_returns(kafka, worker, issuer):
    run = uuid.uuid4().hex[:8]
    pupil = make_insz("2015-12-12", 1)
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL, ttl=TOKEN_LIFE)
    sent_at = time.time()
    submit(kafka, pupil, json.dumps(registration(pupil, display_name=run)).encode(), token)
    [(stamp_type, appended_at)] = stamps(kafka, pupil)
    assert stamp_type == LOG_APPEND_TIME and abs(appended_at - sent_at) < 30

    wait_past(expiry(token))  # no worker runs while the token lapses
    changes = TopicReader(kafka, "iris.enrolment.changes")
    try:
        with worker():
            changes.read_until(
                lambda ms: any(m.pupil == pupil and m.value.get("display_name") == run for m in ms),
                timeout=120,
                message="the submission applied after its token expired",
            )
    finally:
        changes.close()


def test_a_message_whose_token_had_expired_when_it_was_appended_is_rejected(kafka, worker, issuer):
    run = uuid.uuid4().hex[:8]
    pupil = make_insz("2015-12-13", 2)
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL, ttl=TOKEN_LIFE)
    value = json.dumps(registration(pupil, display_name=run)).encode()
    changes = TopicReader(kafka, "iris.enrolment.changes")
    rejected = TopicReader(kafka, "iris.enrolment.rejected")
    try:
        with worker():
            submit(kafka, pupil, value, token)
            changes.read_until(
                lambda ms: any(m.value.get("display_name") == run for m in ms),
                timeout=120,
                message="the submission applied while its token lived",
            )
            wait_past(expiry(token))
            submit(kafka, pupil, value, token)  # the same message again, as captured
            rejected.read_until(
                lambda ms: any(m.key == pupil for m in ms),
                timeout=60,
                message="the replay rejected",
            )
        replay = next(m.value for m in rejected.messages if m.key == pupil)
        assert replay["reason"] == "authorization: token expired"
        assert replay["topic"] == SUBMITTED and replay["original"] == value.decode()
        appended = [at for _type, at in stamps(kafka, pupil)]
        assert len(appended) == 2 and appended[1] > expiry(token) + LEEWAY
    finally:
        changes.close()
        rejected.close()
