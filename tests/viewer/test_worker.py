"""The viewer worker as a child process (`iris worker viewer`) against the test broker
and Redis: it builds the cache from the change topics, keeps it current, and rebuilds
it by itself after Redis has lost it. The events are published as the enrolment,
reports and access services' outbox relays publish them."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from iris.contracts import ACCESS_GRANTS, ENROLMENT_CHANGES, REPORT_CHANGES
from iris.kafka import ensure_topics
from services.viewer import domain
from services.viewer.api import create_app, today
from services.viewer.cache import READY_KEY, AuthCache
from services.viewer.rebuild import VIEWER_REJECTED
from tests.conftest import settings_env
from tests.support import TopicReader, iris_process, wait_until
from tests.viewer.events import Publisher, enrolment, grant, insz, issued

pytestmark = pytest.mark.integration

SCHOOL = "200001"
PUPIL, TEACHER = insz(21), insz(621)
# each test its own school and people: the topics keep every earlier test's events
LATER_SCHOOL, LATER_PUPIL, LATER_TEACHER = "200002", insz(22), insz(622)


@pytest.fixture
def publisher(infra, viewer_settings) -> Iterator[Publisher]:
    asyncio.run(ensure_topics(viewer_settings, (ENROLMENT_CHANGES, REPORT_CHANGES, ACCESS_GRANTS)))
    publisher = Publisher(infra.kafka_bootstrap)
    yield publisher
    publisher.close()


@pytest.fixture
def redis_db(infra) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(infra.redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def worker(viewer_settings, redis_db, artifacts) -> Iterator[subprocess.Popen[bytes]]:
    log = artifacts / "viewer-worker.log"
    with iris_process(["worker", "viewer"], settings_env(viewer_settings), log) as process:
        yield process
        assert process.poll() is None, f"the worker stopped; see {log}"


def test_the_worker_builds_the_cache_keeps_it_current_and_rebuilds_it_after_a_flush(
    viewer_settings, issuer, reports, publisher, redis_db, worker
):
    report = issued(PUPIL, 1, valid_from="2024-09-01")
    reports.publish(report)
    publisher.publish(enrolment(PUPIL, SCHOOL), report, grant(SCHOOL, TEACHER))
    headers = issuer.headers(TEACHER, name="Jo Claes")
    page = f"/pupils/{PUPIL}/report"

    with TestClient(create_app(viewer_settings)) as viewer:
        wait_until(
            lambda: viewer.get(page, headers=headers).status_code == 200,
            timeout=60,
            message="the teacher sees the report once the worker has folded the events",
        )
        marker = json.loads(redis_db.get(READY_KEY))
        assert set(marker["offsets"]) >= {f"{ENROLMENT_CHANGES.name}:0"}

        worker.send_signal(signal.SIGSTOP)  # hold the worker so the empty cache is observed
        try:
            redis_db.flushdb()
            assert viewer.get(page, headers=headers).status_code == 404
            readiness = viewer.get("/readyz")
            assert readiness.status_code == 503
            assert readiness.json()["problems"]["authorisation cache"] == (
                "authorisation cache not ready"
            )
        finally:
            worker.send_signal(signal.SIGCONT)

        wait_until(
            lambda: viewer.get("/readyz").status_code == 200,
            timeout=60,
            message="the cache rebuilt by itself",
        )
        assert viewer.get(page, headers=headers).status_code == 200

        # A marker written under another Redis process (a restart from an old snapshot)
        # is not trusted: the worker rebuilds and marks the cache as its own again.
        run_id = redis_db.info("server")["run_id"]
        redis_db.set(READY_KEY, json.dumps({**marker, "redis_run_id": "another-process"}))
        wait_until(
            lambda: json.loads(redis_db.get(READY_KEY) or "{}").get("redis_run_id") == run_id,
            timeout=60,
            message="the rebuild after a restart from an old snapshot",
        )

        publisher.publish(grant(SCHOOL, TEACHER, 2, status="revoked"))
        wait_until(
            lambda: viewer.get(page, headers=headers).status_code == 404,
            timeout=30,
            message="the revoked grant honoured",
        )


def test_a_change_event_that_does_not_parse_is_rejected_with_its_reason_and_the_worker_moves_on(
    viewer_settings, issuer, reports, publisher, redis_db, worker, infra
):
    publisher.producer.send(
        REPORT_CHANGES.name, key=LATER_PUPIL.encode(), value=b'{"type": "Nonsense"}'
    )
    report = issued(LATER_PUPIL, 1, valid_from="2024-09-01")
    reports.publish(report)
    publisher.publish(
        enrolment(LATER_PUPIL, LATER_SCHOOL), report, grant(LATER_SCHOOL, LATER_TEACHER)
    )
    reader = TopicReader(infra.kafka_bootstrap, VIEWER_REJECTED.name)
    try:
        messages = reader.read_until(
            lambda ms: any('"Nonsense"' in m.value["original"] for m in ms),
            timeout=60,
            message="the rejection",
        )
    finally:
        reader.close()
    rejection = next(m.value for m in messages if '"Nonsense"' in m.value["original"])
    assert rejection["topic"] == REPORT_CHANGES.name and rejection["reason"]
    with TestClient(create_app(viewer_settings)) as viewer:
        wait_until(
            lambda: (
                viewer.get(
                    f"/pupils/{LATER_PUPIL}/report", headers=issuer.headers(LATER_TEACHER)
                ).status_code
                == 200
            ),
            timeout=60,
            message="the events after the rejected one folded",
        )


REFUSING = {
    # out of memory with noeviction: every write refused with OOM
    "out-of-memory": {"maxmemory-policy": "noeviction", "maxmemory": "1"},
    # min-replicas-to-write unmet (this Redis has no replica): writes refused with NOREPLICAS
    "min-replicas-unmet": {"min-replicas-to-write": "1"},
}
WRITABLE = {"maxmemory": "0", "maxmemory-policy": "noeviction", "min-replicas-to-write": "0"}


@pytest.mark.parametrize("refusal", sorted(REFUSING))
def test_while_redis_refuses_writes_a_revoked_person_is_denied_within_ten_seconds(
    viewer_settings, issuer, reports, publisher, redis_db, worker, refusal
):
    school = {"out-of-memory": "200003", "min-replicas-unmet": "200004"}[refusal]
    pupil, revoked, other = (
        (insz(23), insz(623), insz(624))
        if refusal == "out-of-memory"
        else (insz(24), insz(625), insz(626))
    )
    report = issued(pupil, 1, valid_from="2024-09-01")
    reports.publish(report)
    publisher.publish(
        enrolment(pupil, school), report, grant(school, revoked), grant(school, other)
    )
    page = f"/pupils/{pupil}/report"

    def status(person: str) -> int:
        return viewer.get(page, headers=issuer.headers(person)).status_code

    with TestClient(create_app(viewer_settings)) as viewer:
        wait_until(
            lambda: status(revoked) == 200 and status(other) == 200,
            timeout=60,
            message="both teachers see the report",
        )
        try:
            for name, value in REFUSING[refusal].items():
                redis_db.config_set(name, value)
            publisher.publish(grant(school, revoked, 2, status="revoked"))
            wait_until(
                lambda: status(revoked) == 404,
                timeout=10,
                message="the revoked teacher denied while Redis refuses writes",
            )
        finally:
            for name, value in WRITABLE.items():
                redis_db.config_set(name, value)
        wait_until(
            lambda: status(other) == 200,
            timeout=30,
            message="the other teacher allowed again once Redis takes writes",
        )
        assert status(revoked) == 404

    async def reason() -> str | None:
        cache = AuthCache.from_url(viewer_settings.redis_url)
        try:
            return (await cache.check(revoked, pupil, today())).reason
        finally:
            await cache.close()

    assert asyncio.run(reason()) == domain.GRANT_NOT_ACTIVE  # the revocation was folded


def test_a_stalled_worker_lets_the_lease_lapse_so_checks_deny_until_it_carries_on(
    viewer_settings, issuer, reports, publisher, redis_db, worker
):
    school, pupil, teacher = "200005", insz(25), insz(627)
    report = issued(pupil, 1, valid_from="2024-09-01")
    reports.publish(report)
    publisher.publish(enrolment(pupil, school), report, grant(school, teacher))
    page = f"/pupils/{pupil}/report"
    headers = issuer.headers(teacher)

    with TestClient(create_app(viewer_settings)) as viewer:
        wait_until(
            lambda: viewer.get(page, headers=headers).status_code == 200,
            timeout=60,
            message="the teacher sees the report",
        )
        worker.send_signal(signal.SIGSTOP)  # a worker that stalls renews nothing
        try:
            wait_until(
                lambda: (
                    viewer.get("/readyz").json().get("problems", {}).get("authorisation cache")
                    == domain.CACHE_NOT_CURRENT
                ),
                timeout=10,
                message="the lease lapsed while the worker is stalled",
            )
            assert viewer.get(page, headers=headers).status_code == 404
        finally:
            worker.send_signal(signal.SIGCONT)
        wait_until(
            lambda: viewer.get(page, headers=headers).status_code == 200,
            timeout=30,
            message="allowed again once the worker carries on",
        )
