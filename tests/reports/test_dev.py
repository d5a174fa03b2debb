import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from iris.auth import dev_issuer_key, mint
from iris.infra import free_port
from iris.insz import make_insz
from iris.seed import DEV_CLB, DEV_CLB_STAFF, DEV_PUPIL
from iris.settings import DEFAULT_AUDIENCE, INTERNAL_AUDIENCE, Settings
from tests.reports.conftest import CLB, STAFF, report_body
from tests.support import wait_until

pytestmark = pytest.mark.e2e


def test_iris_dev_starts_the_reports_service_prints_its_url_and_seeds_a_report(tmp_path: Path):
    ports = {name: free_port() for name in ("broker", "redis", "issuer", "reports")}
    ports |= {name: free_port() for name in ("enrolment", "access", "viewer")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
    env |= {f"IRIS_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    output = tmp_path / "dev.out"
    data_dir = tmp_path / "iris"
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "iris.cli", "dev", "--data-dir", str(data_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{ports['reports']}"
        wait_until(
            lambda: process.poll() is not None or "IRIS is running" in output.read_text(),
            timeout=120,
            message="iris dev to print the reports URL",
        )
        assert process.poll() is None, output.read_text()
        assert f"reports ready at {url}" in output.read_text()
        assert f"pupil {DEV_PUPIL} has a current IAC report" in output.read_text()

        issuer = f"http://127.0.0.1:{ports['issuer']}"
        key = dev_issuer_key(Settings(data_dir=data_dir))
        staff = mint(key, issuer, STAFF, DEFAULT_AUDIENCE, clb_staff_of=[CLB])
        staff_of_seeded_clb = mint(
            key, issuer, DEV_CLB_STAFF, DEFAULT_AUDIENCE, clb_staff_of=[DEV_CLB]
        )
        viewer = mint(key, issuer, "service:viewer", INTERNAL_AUDIENCE, service="viewer")
        pupil = make_insz("2016-05-20", 3)
        issued = httpx.post(
            f"{url}/v1/pupils/{pupil}/reports",
            json=report_body(),
            headers={"Authorization": f"Bearer {staff}"},
        )
        assert issued.status_code == 201, issued.text
        content = httpx.get(
            f"{url}/internal/reports/{issued.json()['report_id']}",
            headers={"Authorization": f"Bearer {viewer}"},
        )
        assert content.status_code == 200
        assert content.json()["content"] == report_body()["content"]
        seeded = httpx.get(
            f"{url}/v1/pupils/{DEV_PUPIL}/reports",
            headers={"Authorization": f"Bearer {staff_of_seeded_clb}"},
        ).json()
        assert [(v["version"], v["current"]) for v in seeded] == [(1, False), (2, True)]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
