"""Submissions on Kafka that must not pass, or must not take others down: poison
messages, tokens past their expiry, tokens that live too long. The worker runs as its
own process against the broker, as in production."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient

from iris.insz import make_insz
from iris.settings import Settings
from services.enrolment.api import create_app
from tests.conftest import settings_env
from tests.enrolment.test_kafka_ingestion import SCHOOL, registration
from tests.support import TopicReader, iris_process

SUBMITTED = "iris.enrolment.submitted"


@pytest.fixture
def worker(make_settings, tmp_path) -> Iterator[Settings]:
    """The enrolment worker (1 s clock leeway) and the API whose relay publishes."""
    settings = make_settings("enrolment", token_leeway_seconds=1)
    env = {**settings_env(settings), "IRIS_TOKEN_LEEWAY_SECONDS": "1"}
    with (
        iris_process(["worker", "enrolment"], env, tmp_path / "worker.log"),
        TestClient(create_app(settings)),
    ):
        yield settings


@pytest.fixture
def topics(infra) -> Iterator[tuple[TopicReader, TopicReader]]:
    changes = TopicReader(infra.kafka_bootstrap, "iris.enrolment.changes")
    rejected = TopicReader(infra.kafka_bootstrap, "iris.enrolment.rejected")
    yield changes, rejected
    changes.close()
    rejected.close()


def send(bootstrap: str, *messages: tuple[bytes | None, bytes | None, list]) -> None:
    """Publish as any client of the broker may, null header values included (aiokafka:
    kafka-python refuses to send them, but the protocol allows them)."""

    async def publish() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for key, value, headers in messages:
                await producer.send_and_wait(SUBMITTED, key=key, value=value, headers=headers)
        finally:
            await producer.stop()

    asyncio.run(publish())


def rejects_with(rejected: TopicReader, marker: str, count: int) -> dict[str, str]:
    """Reason by key of the rejections whose key holds `marker`, once `count` arrived."""
    rejected.read_until(
        lambda ms: sum(marker in (m.key or "") for m in ms) >= count,
        timeout=60,
        message=f"{count} rejections",
    )
    return {m.key: m.value["reason"] for m in rejected.messages if marker in (m.key or "")}


def test_a_poison_message_is_rejected_with_its_reason_and_its_batch_is_applied(
    worker, infra, issuer, topics
):
    changes, rejected = topics
    run = uuid.uuid4().hex[:8]
    token = b"Bearer " + issuer.token(f"client:{SCHOOL}", school_id=SCHOOL).encode()
    first, last, other = (make_insz("2015-08-08", n) for n in (1, 2, 3))
    value = json.dumps(registration(other, display_name=run)).encode()
    send(
        infra.kafka_bootstrap,
        (first.encode(), json.dumps(registration(first, display_name=run)).encode(), []),
        (f"{run}:null header".encode(), value, [("authorization", None)]),
        (f"{run}:not utf-8".encode(), value, [("authorization", b"Bearer \xff\xfe")]),
        (f"{run}:\x00\xff key".encode("latin-1"), b"\xff\xfe\x00", [("authorization", token)]),
        ((f"{run}:long key " + "k" * 500).encode(), value, [("authorization", b"Basic x")]),
        (None, value, [("authorization", b"Bearer not.a.token")]),
        (first.encode(), json.dumps(registration(first, display_name=run)).encode(), []),
        (last.encode(), json.dumps(registration(last, display_name=run)).encode(), []),
    )
    # the good ones carry their token; sent again so that they share the batch
    send(
        infra.kafka_bootstrap,
        (
            last.encode(),
            json.dumps(registration(last, display_name=run)).encode(),
            [("authorization", token)],
        ),
        (
            first.encode(),
            json.dumps(registration(first, display_name=run)).encode(),
            [("authorization", token)],
        ),
    )
    changes.read_until(
        lambda ms: {m.pupil for m in ms if m.value.get("display_name") == run} >= {first, last},
        timeout=60,
        message="the good submissions applied",
    )
    reasons = rejects_with(rejected, run, 4)
    by_kind = {key.split(":", 1)[1][:9]: reason for key, reason in reasons.items()}
    assert "authorization" in by_kind["null head"]
    assert "UTF-8" in by_kind["not utf-8"]
    assert by_kind["long key "].startswith("authorization")
    assert any(len(key) <= 200 for key in reasons)
    assert len(reasons) == 4  # and the NUL key's: its value is not JSON
    assert any("JSON" in reason for reason in reasons.values())


def test_a_submission_token_is_refused_past_its_expiry_and_when_it_lives_too_long(
    worker, infra, issuer, topics
):
    changes, rejected = topics
    run = uuid.uuid4().hex[:8]
    late, long_lived, ready = (make_insz("2015-09-09", n) for n in (2, 3, 4))
    # the worker has joined its group once it applies a submission
    send(
        infra.kafka_bootstrap,
        (
            ready.encode(),
            json.dumps(registration(ready, display_name=run)).encode(),
            [
                (
                    "authorization",
                    b"Bearer " + issuer.token(f"client:{SCHOOL}", school_id=SCHOOL).encode(),
                )
            ],
        ),
    )
    changes.read_until(
        lambda ms: any(m.pupil == ready and m.value.get("display_name") == run for m in ms),
        timeout=60,
        message="the worker applying submissions",
    )
    # a token that lived its whole life before the submission: expired 5 s ago, beyond
    # the worker's 1 s leeway, and within the 900 s a submission token may live
    now = int(time.time())
    expired = issuer.token(
        f"client:{SCHOOL}", school_id=SCHOOL, iat=now - 65, nbf=now - 65, exp=now - 5
    )
    header = [("authorization", b"Bearer " + expired.encode())]
    hour_token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL, ttl=3600)
    send(
        infra.kafka_bootstrap,
        (f"{run}:late".encode(), json.dumps(registration(late)).encode(), header),
        (
            f"{run}:long".encode(),
            json.dumps(registration(long_lived)).encode(),
            [("authorization", b"Bearer " + hour_token.encode())],
        ),
    )
    reasons = rejects_with(rejected, run, 2)
    assert "expired" in reasons[f"{run}:late"]
    assert "900 s at most" in reasons[f"{run}:long"]
    assert not any(m.pupil in (late, long_lived) for m in changes.poll() + changes.messages)
