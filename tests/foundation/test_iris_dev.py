"""`iris dev` as a new user runs it: embedded defaults, printed URLs, a clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

import httpx

from iris import infra, seed
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


def test_iris_dev_runs_the_platform_prints_each_url_and_stops_cleanly(tmp_path):
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
            timeout=120,
            message="iris dev to report it is running",
        )
        assert process.poll() is None, "".join(lines)
        urls = dict(re.findall(r"^(\w+) ready at (http://\S+)$", "".join(lines), re.M))
        assert set(urls) == {spec.name for spec in available()}
        assert urls["enrolment"] == f"http://127.0.0.1:{ports['IRIS_ENROLMENT_PORT']}"

        token = subprocess.run(
            [
                sys.executable,
                "-m",
                "iris.cli",
                "token",
                "--sub",
                "client:1234",
                "--school-client",
                "1234",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        pupil = make_insz("2017-01-02", 3)
        answer = httpx.post(
            f"{urls['enrolment']}/v1/enrolments",
            json={"pupil_id": pupil, "school_id": "1234", "start_date": "2026-09-01"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        listed = httpx.get(
            f"{urls['enrolment']}/v1/pupils/{pupil}/enrolments",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert [e["school_id"] for e in listed.json()] == ["1234"]
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
        reader.join(10)
    assert code == 0, "".join(lines)
    assert "IRIS: stopped." in "".join(lines)
