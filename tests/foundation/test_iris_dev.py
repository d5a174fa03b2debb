"""`iris dev` as a new user runs it: embedded defaults, printed URLs, a clean stop."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from iris import apache_kafka, infra, seed
from iris.insz import make_insz
from iris.registry import available
from tests.support import wait_until


def mint_for(env: dict[str, str], *args: str) -> dict[str, str]:
    token = subprocess.run(
        [sys.executable, "-m", "iris.cli", "token", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


def assert_the_demo_world_is_there(env: dict[str, str], urls: dict[str, str]) -> None:
    first = seed.PUPILS[0]
    school = mint_for(env, "--sub", "client:demo", "--school-client", first.school_id)
    enrolled = httpx.get(f"{urls['enrolment']}/v1/pupils/{first.insz}/enrolments", headers=school)
    assert [e["display_name"] for e in enrolled.json()] == [first.name]
    if "reports" in urls:
        clb = mint_for(env, "--sub", seed.CLB_STAFF.insz, "--clb-staff-of", seed.CLB_ID)
        history = httpx.get(f"{urls['reports']}/v1/pupils/{first.insz}/reports", headers=clb)
        assert [(v["version"], v["current"]) for v in history.json()] == [(1, False), (2, True)]
        viewer = mint_for(env, "--service", "viewer")
        current = history.json()[1]["report_id"]
        content = httpx.get(f"{urls['reports']}/internal/reports/{current}", headers=viewer)
        assert content.status_code == 200 and content.json()["version"] == 2


@contextlib.contextmanager
def running_iris_dev(tmp_path: Path, **extra: str) -> Iterator[tuple[dict[str, str], dict, list]]:
    """`iris dev` on free ports; yields its environment, its printed URLs and its output."""
    ports = {f"IRIS_{spec.name.upper()}_PORT": str(infra.free_port()) for spec in available()}
    ports |= {
        f"IRIS_{spec.name.upper()}_WORKER_METRICS_PORT": str(infra.free_port())
        for spec in available()
        if spec.has_worker
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("IRIS_DATABASE_URL", "IRIS_REDIS_URL", "IRIS_KAFKA_BOOTSTRAP")
    }
    env.update(ports)
    env.update(
        IRIS_DATA_DIR=str(tmp_path / "iris"),
        IRIS_BROKER_PORT=str(infra.free_port()),
        IRIS_REDIS_PORT=str(infra.free_port()),
        IRIS_ISSUER_PORT=str(infra.free_port()),
        **extra,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "iris.cli", "dev"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        wait_until(
            lambda: any("IRIS is running" in line for line in lines) or process.poll(),
            timeout=180,
            message="iris dev to report it is running",
        )
        assert process.poll() is None, "".join(lines)
        urls = dict(re.findall(r"^(\w+) ready at (http://\S+)$", "".join(lines), re.M))
        assert set(urls) == {spec.name for spec in available()}
        assert urls["enrolment"] == f"http://127.0.0.1:{ports['IRIS_ENROLMENT_PORT']}"
        yield env, urls, lines
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
        reader.join(10)
    assert code == 0, "".join(lines)
    assert "IRIS: stopped." in "".join(lines)


def test_iris_dev_runs_the_platform_prints_each_url_and_stops_cleanly(tmp_path):
    with running_iris_dev(tmp_path, IRIS_DEV_BROKER="tansu") as (env, urls, lines):
        assert any("embedded Tansu broker" in line for line in lines)
        token = mint_for(env, "--sub", "client:1234", "--school-client", "1234")
        pupil = make_insz("2017-01-02", 3)
        answer = httpx.post(
            f"{urls['enrolment']}/v1/enrolments",
            json={"pupil_id": pupil, "school_id": "1234", "start_date": "2026-09-01"},
            headers=token,
        )
        assert answer.status_code == 200, answer.text
        listed = httpx.get(f"{urls['enrolment']}/v1/pupils/{pupil}/enrolments", headers=token)
        assert [e["school_id"] for e in listed.json()] == ["1234"]


@pytest.mark.skipif(not apache_kafka.installed(), reason="Apache Kafka is not installed")
@pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is not installed")
def test_iris_dev_on_apache_kafka_takes_a_submission_from_a_librdkafka_client(tmp_path):
    with running_iris_dev(tmp_path) as (env, urls, lines):
        assert any("Apache Kafka (KRaft)" in line for line in lines), "".join(lines)
        bootstrap = f"127.0.0.1:{env['IRIS_BROKER_PORT']}"
        token = mint_for(env, "--sub", "client:1234", "--school-client", "1234")
        pupil = make_insz("2016-05-06", 7)
        event = {
            "type": "EnrolmentRegistered",
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "pupil_id": pupil,
            "school_id": "1234",
            "start_date": "2026-09-01",
            "source": "kcat",
        }
        subprocess.run(
            [
                "kcat",
                "-P",
                "-b",
                bootstrap,
                "-t",
                "iris.enrolment.submitted",
                "-k",
                pupil,
                "-H",
                f"authorization={token['Authorization']}",
            ],
            input=json.dumps(event),
            text=True,
            check=True,
            timeout=60,
        )

        def registered() -> list[dict]:
            found = httpx.get(f"{urls['enrolment']}/v1/pupils/{pupil}/enrolments", headers=token)
            return found.json() if found.status_code == 200 else []

        wait_until(registered, timeout=60, message="the kcat submission to be registered")
        assert [(e["school_id"], e["version"]) for e in registered()] == [("1234", 1)]
