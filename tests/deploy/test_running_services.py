"""The enrolment API and worker as operators run them: child processes, scraped and logged."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer
from sqlalchemy import inspect

from iris import infra as local
from iris.contracts import ACCESS_GRANTS, ENROLMENT_SUBMITTED, EnrolmentRegistered
from iris.db import make_engine, upgrade
from iris.insz import make_insz
from iris.kafka import ensure_topics, new_topic
from iris.registry import SERVICES
from iris.settings import Settings
from tests.conftest import settings_env
from tests.logcheck import check_log_files
from tests.support import Issuer, iris_process, wait_until

pytestmark = pytest.mark.integration

SCHOOL = "123456"
LAG_LINE = re.compile(
    r'^iris_consumer_lag\{partition="(\d+)",topic="([^"]+)"\} ([0-9.e+]+)$', re.MULTILINE
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(settings: Settings) -> None:
    upgrade(SERVICES["enrolment"].migrations_dir, settings.database_url_for("enrolment"))
    asyncio.run(ensure_topics(settings))


def publish_submissions(settings: Settings, issuer: Issuer, count: int, serial0: int) -> None:
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL)
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    try:
        for i in range(count):
            pupil = make_insz("2015-03-01", serial0 + i)
            event = EnrolmentRegistered(
                pupil_id=pupil, school_id=SCHOOL, start_date="2024-09-01", source="deploy-test"
            )
            producer.send(
                ENROLMENT_SUBMITTED.name,
                key=pupil.encode(),
                value=event.to_json(),
                headers=[("authorization", f"Bearer {token}".encode())],
            )
        producer.flush(30)
    finally:
        producer.close()


def metric(text: str, name: str, labels: str | None = None) -> float | None:
    """The value of one sample in Prometheus text (labels as written, in sorted order)."""
    pattern = (
        rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$"
        if labels
        else (rf"^{re.escape(name)}(?:\{{[^}}]*\}})? (\S+)$")
    )
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else None


def probe(url: str) -> int:
    """`iris probe URL`, the image's health check."""
    done = subprocess.run(
        [sys.executable, "-m", "iris.cli", "probe", url], capture_output=True, timeout=30
    )
    return done.returncode


def scrape_lag(port: int) -> dict[tuple[str, int], float] | None:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return None
    lags = {(topic, int(p)): float(v) for p, topic, v in LAG_LINE.findall(text)}
    return {k: v for k, v in lags.items() if k[0] == ENROLMENT_SUBMITTED.name} or None


def test_enrolment_worker_reports_its_consumer_lag_until_it_has_caught_up(
    make_settings: Callable[..., Settings], issuer: Issuer, jwks_http_url: str, tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(
        "enrolment",
        oidc_jwks_url=jwks_http_url,
        worker_metrics_port=port,
        worker_metrics_interval=0.2,
    )
    prepare(settings)
    publish_submissions(settings, issuer, 300, serial0=1)
    env = settings_env(settings) | {
        "IRIS_WORKER_METRICS_PORT": str(port),
        "IRIS_WORKER_METRICS_INTERVAL": "0.2",
    }
    with iris_process(["worker", "enrolment"], env, tmp_path / "worker.log") as worker:
        first = wait_until(lambda: scrape_lag(port), timeout=60, message="a lag measurement")
        assert sum(first.values()) > 0, "submissions published before the start are not lag"
        assert len(first) == (settings.topic_partitions or ENROLMENT_SUBMITTED.partitions)

        wait_until(
            lambda: (lag := scrape_lag(port)) is not None and sum(lag.values()) == 0,
            timeout=90,
            message="the worker to commit every submission",
        )
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
        assert ready.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
        assert worker.poll() is None


def test_enrolment_api_and_worker_write_only_json_log_lines_without_tokens(
    make_settings: Callable[..., Settings], issuer: Issuer, jwks_http_url: str, tmp_path: Path
) -> None:
    api_port, metrics_port = free_port(), free_port()
    settings = make_settings("enrolment", oidc_jwks_url=jwks_http_url)
    prepare(settings)
    env = settings_env(settings) | {
        "IRIS_WORKER_METRICS_PORT": str(metrics_port),
        "IRIS_WORKER_METRICS_INTERVAL": "0.5",
    }
    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    headers = issuer.school_client(SCHOOL)
    bad_token = {"Authorization": "Bearer " + uuid.uuid4().hex}
    with (
        iris_process(["api", "enrolment", "--port", str(api_port)], env, api_log),
        iris_process(["worker", "enrolment"], env, worker_log),
    ):
        base = f"http://127.0.0.1:{api_port}"

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=60, message="the enrolment API to be ready")
        assert probe(f"{base}/healthz") == 0
        wait_until(
            lambda: probe(f"http://127.0.0.1:{metrics_port}/healthz") == 0,
            timeout=60,
            message="the worker's health endpoint",
        )
        assert probe(f"http://127.0.0.1:{free_port()}/healthz") == 1
        with httpx.Client(base_url=base, timeout=10) as client:
            for i in range(20):
                body = {
                    "pupil_id": make_insz("2016-05-02", 400 + i),
                    "school_id": SCHOOL,
                    "start_date": "2024-09-01",
                }
                assert client.post("/v1/enrolments", json=body, headers=headers).is_success
            invalid = client.post("/v1/enrolments", json={"pupil_id": "1"}, headers=headers)
            assert invalid.status_code == 422
            assert client.post("/v1/enrolments", json={}, headers=bad_token).status_code == 401
            wait_until(
                lambda: metric(client.get("/metrics").text, "iris_outbox_backlog") == 0,
                message="the outbox to be published",
            )
            scraped = client.get("/metrics").text
        post = 'method="POST",route="/v1/enrolments",service="enrolment"'
        assert metric(scraped, "iris_http_requests_total", post + ',status="200"') == 20
        assert metric(scraped, "iris_http_requests_total", post + ',status="422"') == 1
        assert metric(scraped, "iris_http_requests_total", post + ',status="401"') == 1
        assert metric(scraped, "iris_http_request_duration_seconds_count", post) == 22
        assert metric(scraped, "iris_outbox_published_total") >= 20
        publish_submissions(settings, issuer, 20, serial0=500)
        pupils = [make_insz("2015-03-01", 500 + i) for i in range(20)]
        with httpx.Client(base_url=base, timeout=10, headers=headers) as client:
            wait_until(
                lambda: all(client.get(f"/v1/pupils/{p}/enrolments").json() for p in pupils),
                timeout=90,
                message="the worker to apply the published submissions",
            )

    tokens = [headers["Authorization"].split()[1], bad_token["Authorization"].split()[1]]
    problems = check_log_files([api_log, worker_log], forbidden=tokens)
    assert api_log.read_text().strip() and worker_log.read_text().strip()
    assert problems.ok, problems.summary()


def test_iris_topics_creates_every_topic_of_the_design_with_partitions_and_compaction(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    broker = local.start_broker(free_port(), tmp_path / "logs")
    settings = make_settings("topics", kafka_bootstrap=broker.url, topic_partitions=None)
    log = tmp_path / "topics.log"
    try:
        with iris_process(["topics"], settings_env(settings), log) as job:
            assert job.wait(60) == 0, log.read_text()
        check_topics(settings)
    finally:
        broker.stop()


def check_topics(settings: Settings) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    from iris.contracts import TOPICS
    from tests.deploy.design import design

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        described = {t["name"]: t for t in admin.describe_topics(list(design().topics))}
        registered = {t.name: t for t in TOPICS}
        for name in design().topics:
            assert described[name]["error_code"] == 0, name
            assert len(described[name]["partitions"]) == registered[name].partitions, name
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in design().topics]
        )
    finally:
        admin.close()

    # Apache Kafka reports the settings that differ from its defaults (the compaction of the
    # grants); the embedded broker reports none, so there only the request below is checked.
    def policy(entries: dict[str, object]) -> object:
        value = entries.get("cleanup.policy")
        return value.get("value") if isinstance(value, dict) else value

    reported = configs.get("topic", {})
    compacted = {t.name for t in TOPICS if t.compacted}
    changes = {
        ACCESS_GRANTS.name,
        "iris.enrolment.changes",
        "iris.report.changes",
        "iris.access.support-requests",
    }
    assert compacted == changes | {"iris.viewer.audit"}
    if any(reported.values()):
        assert all(policy(reported[n]) == "compact" for n in changes)
        assert policy(reported["iris.viewer.audit"]) == "compact,delete"
        assert all(policy(reported[n]) in (None, "delete") for n in set(reported) - compacted)
    # What `iris topics` asks of the broker, whichever broker it is:
    asked = {t.name: new_topic(t, settings) for t in TOPICS}
    for name in changes:
        assert asked[name].topic_configs == {"cleanup.policy": "compact"}, name
    # what only passes through goes after its retention period; the record of views too,
    # and before it where a purge or an erasure tombstoned a view's or denial's key
    day_ms = 24 * 3600 * 1000
    assert asked["iris.viewer.audit"].topic_configs == {
        "cleanup.policy": "compact,delete",
        "retention.ms": str(settings.retention_views_days * day_ms),
    }
    intake = {"retention.ms": str(settings.retention_intake_days * day_ms)}
    for name in ("iris.enrolment.rejected", "iris.viewer.rejected"):
        assert asked[name].topic_configs == intake, name
    # the broker stamps each submission with the time it appended it, which no producer sets
    assert asked["iris.enrolment.submitted"].topic_configs == {
        **intake,
        "message.timestamp.type": "LogAppendTime",
    }
    assert set(asked) == set(design().topics)


def test_iris_migrate_waits_for_its_database_then_migrates_it(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings("enrolment", migrated=False)
    unreachable = {"IRIS_DATABASE_URL": f"postgresql://iris@127.0.0.1:{free_port()}/none"}
    gave_up = subprocess.run(
        [sys.executable, "-m", "iris.cli", "migrate", "enrolment", "--wait", "1"],
        env={**os.environ, **settings_env(settings), **unreachable},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gave_up.returncode == 1
    assert "waiting for the database" in gave_up.stderr
    assert "database unreachable" in gave_up.stderr

    migrated = subprocess.run(
        [sys.executable, "-m", "iris.cli", "migrate", "enrolment"],
        env={**os.environ, **settings_env(settings)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    engine = make_engine(settings.database_url_for("enrolment"))
    try:
        assert "enrolment_outbox" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
