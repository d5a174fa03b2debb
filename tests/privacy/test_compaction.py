"""On Apache Kafka, whose log cleaner compacts (the embedded test broker never does): once
an erasure's tombstones are published, the broker keeps no message of `iris.viewer.audit`
that holds the erased INSZ, and keeps the records of everyone else."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiokafka.admin import NewTopic
from kafka import KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from iris import apache_kafka
from iris.contracts import VIEWER_AUDIT
from iris.db import transaction
from iris.erasure import command
from iris.insz import make_insz
from iris.kafka import make_admin, new_topic
from iris.outbox import OutboxRelay
from iris.settings import Settings
from services.viewer import models as viewer
from services.viewer import service as viewing
from services.viewer.repository import SqlViewerRepository
from tests.privacy.conftest import Database
from tests.support import TopicReader, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not apache_kafka.installed(), reason="Apache Kafka is not installed"),
]

# What lets the log cleaner act within seconds instead of days; the topic's own policy
# (compact,delete and the views' retention) is what `iris topics` asks for.
QUICK_CLEANING = {
    "segment.ms": "100",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "100",
}


@pytest.fixture
def kafka(tmp_path: Path) -> Iterator[apache_kafka.ApacheKafka]:
    cluster = apache_kafka.ApacheKafka(tmp_path / "kafka")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


async def create_audit_topic(settings: Settings) -> None:
    asked = new_topic(VIEWER_AUDIT, settings)
    admin = make_admin(settings, request_timeout_ms=30000)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    asked.name,
                    num_partitions=asked.num_partitions,
                    replication_factor=asked.replication_factor,
                    topic_configs={**asked.topic_configs, **QUICK_CLEANING},
                )
            ]
        )
    finally:
        await admin.close()


def cleanup_policy(bootstrap: str) -> object:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, VIEWER_AUDIT.name)]
        )
    finally:
        admin.close()
    entry = configs["topic"][VIEWER_AUDIT.name]["cleanup.policy"]
    return entry.get("value") if isinstance(entry, dict) else entry


def publish(db: Database, settings: Settings) -> None:
    async def run() -> None:
        relay = OutboxRelay("viewer", db.sessions, viewer.Outbox, settings)
        try:
            await relay.publish_pending()
        finally:
            await relay._drop_producer()

    asyncio.run(run())


def audit_texts(bootstrap: str) -> list[str]:
    """Every message the broker still holds on the audit topic, key and value as text."""
    reader = TopicReader(bootstrap, VIEWER_AUDIT.name)
    try:
        return [(m.key or "") + (m.raw or b"").decode() for m in reader.read_to_end()]
    finally:
        reader.close()


def test_after_an_erasure_apache_kafka_compacts_the_insz_out_of_the_audit_topic(
    database: Callable[[str], Database], kafka: apache_kafka.ApacheKafka
) -> None:
    db = database("viewer")
    settings = db.settings.model_copy(
        update={"kafka_bootstrap": kafka.bootstrap, "topic_partitions": 1}
    )
    asyncio.run(create_audit_topic(settings))
    assert cleanup_policy(kafka.bootstrap) == "compact,delete"
    erased, kept = make_insz("2012-04-05", 401), make_insz("2012-04-05", 402)
    teacher = make_insz("1980-04-05", 401)
    views = [
        viewing.View(
            view_id=viewing.new_view_id(),
            pupil_id=pupil,
            person_id=teacher,
            person_name="Els",
            role="teacher",
            school_id="410001",
            report_id=str(uuid.uuid4()),
            version=1,
            channel="web",
            viewed_at=viewing.now(),
        )
        for pupil in (erased, kept)
    ]
    denials = [viewing.Denial(teacher, pupil, "no grant") for pupil in (erased, kept)]
    with transaction(db.sessions) as session:
        viewing.record(SqlViewerRepository(session), [*views, *denials])
    publish(db, settings)
    assert sum(erased in text for text in audit_texts(kafka.bootstrap)) == 2

    lines: list[str] = []
    assert command(["viewer"], "pupil", erased, "DPO-2026-31", settings, lines.append) == 0
    assert "viewer: erased 1 views" in lines and "viewer: erased 1 denials" in lines
    publish(db, settings)

    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap)

    def compacted() -> bool:
        # A message appended after `segment.ms` rolls the segment, so that the one holding
        # the tombstones becomes cleanable: here a purge's tombstone of some other record.
        producer.send(VIEWER_AUDIT.name, key=str(uuid.uuid4()).encode(), value=None).get(10)
        texts = audit_texts(kafka.bootstrap)
        return not any(erased in text for text in texts)

    try:
        wait_until(compacted, timeout=180, interval=0.5, message="the log cleaner's compaction")
    finally:
        producer.close()
    assert sum(kept in text for text in audit_texts(kafka.bootstrap)) == 2
