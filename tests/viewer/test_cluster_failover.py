"""The viewer on a Redis Cluster of three masters and three replicas, with the viewer
worker as a child process: the master holding the school's slot is killed (SIGKILL)
while checks run; the checks are denied (never a 500) until the cluster has failed over
and the worker has rebuilt the cache, then allowed again with the right answers."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
import redis.cluster
from fastapi.testclient import TestClient
from redis.crc import key_slot

from iris.infra import RedisCluster, free_cluster_ports, start_redis_cluster
from services.viewer.api import create_app
from services.viewer.cache import school_key
from tests.conftest import settings_env
from tests.support import iris_process, wait_until
from tests.viewer.events import Publisher, enrolment, grant, insz, issued

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)

SCHOOL = "200031"
PUPIL, TEACHER, REVOKED = insz(31), insz(631), insz(632)


@pytest.fixture
def cluster(tmp_path) -> Iterator[RedisCluster]:
    started = start_redis_cluster(free_cluster_ports(6), tmp_path / "cluster")
    yield started
    started.stop()


def master_of(cluster: RedisCluster, key: str) -> int:
    """The port of the master serving `key`'s slot."""
    seed = next(iter(cluster.nodes))
    client = redis.cluster.RedisCluster(host="127.0.0.1", port=seed)
    try:
        node = client.nodes_manager.get_node_from_slot(key_slot(key.encode()))
        return int(node.port)
    finally:
        client.close()


def test_a_killed_master_makes_checks_deny_until_fail_over_then_they_allow_again(
    viewer_settings, issuer, reports, infra, cluster, artifacts
):
    settings = viewer_settings.model_copy(update={"redis_url": cluster.url})
    report = issued(PUPIL, 1, valid_from="2024-09-01")
    reports.publish(report)
    publisher = Publisher(infra.kafka_bootstrap)
    for event in (
        enrolment(PUPIL, SCHOOL),
        report,
        grant(SCHOOL, TEACHER),
        grant(SCHOOL, REVOKED),
        grant(SCHOOL, REVOKED, 2, status="revoked"),
    ):
        publisher.publish(event)
    publisher.close()
    page = f"/pupils/{PUPIL}/report?school_id={SCHOOL}"
    worker_log = artifacts / "viewer-worker-cluster.log"

    with (
        iris_process(["worker", "viewer"], settings_env(settings), worker_log),
        TestClient(create_app(settings)) as viewer,
    ):

        def status(person: str) -> int:
            return viewer.get(page, headers=issuer.headers(person)).status_code

        wait_until(lambda: status(TEACHER) == 200, timeout=90, message="the report shown")
        assert status(REVOKED) == 404
        victim = master_of(cluster, school_key(SCHOOL, "grant"))
        killed = time.monotonic()
        cluster.nodes[victim].process.kill()
        seen: list[tuple[float, int]] = []

        def allowed_again() -> bool:
            answer = status(TEACHER)
            seen.append((round(time.monotonic() - killed, 3), answer))
            return answer == 200 and any(s == 404 for _t, s in seen)

        wait_until(allowed_again, timeout=120, interval=0.1, message="allowed after fail-over")
        assert {s for _t, s in seen} <= {200, 404}, seen  # denied, never an error page
        assert status(REVOKED) == 404  # and the right answers
        assert status(insz(633)) == 404
    first_denied = next(t for t, s in seen if s == 404)
    window = {
        "first_denied_after_kill_s": first_denied,
        "allowed_again_after_kill_s": seen[-1][0],
        "checks": len(seen),
        "denied_checks": sum(s == 404 for _t, s in seen),
    }
    log.info("fail-over window", extra=window)
    (artifacts / "redis-cluster-failover.json").write_text(json.dumps(window, indent=1))
