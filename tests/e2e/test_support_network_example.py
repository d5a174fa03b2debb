"""On the running stack, as a support network meets IRIS: the operator registers the
network's software (`iris clients add --support-network N`), and
`examples/support_network.py` lists the network's support requests, accepts one naming a
worker and follows the resulting access request until the school approves it. The
network's token is refused by every other door."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from iris.insz import make_insz
from tests.support import wait_until

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_network.py"
SCHOOL, CLB = "230001", "113001"
RESPONSIBLE = make_insz("1971-01-05", 41)
WORKER = make_insz("1991-04-08", 42)
PUPIL = make_insz("2015-09-13", 43)
NETWORK = "ondersteuningsnetwerk-diplom"


def operator_registers_the_network(running) -> dict[str, str]:
    """`iris clients add --support-network N` on the access database; its credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
    env |= {
        "IRIS_ENV": "test",
        "IRIS_DATA_DIR": str(running.settings.data_dir),
        "IRIS_DATABASE_URL": running.settings.database_url_for("access"),
    }
    added = subprocess.run(
        [sys.executable, "-m", "iris.cli", "clients", "add", "--support-network", NETWORK],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    printed = dict(line.split("=", 1) for line in added.stdout.splitlines())
    return {"IRIS_CLIENT_ID": printed["client_id"], "IRIS_CLIENT_SECRET": printed["client_secret"]}


def example(running, credentials: dict[str, str], *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(EXAMPLE), "--access", running.urls["access"], "--network"]
    return subprocess.Popen(
        [*command, NETWORK, *args],
        env={**os.environ, **credentials},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err
    return out


def school_sends_a_support_request(running, http: httpx.Client) -> str:
    urls = running.urls
    enrolled = http.post(
        f"{urls['enrolment']}/v1/enrolments",
        headers=running.headers(f"client:e2e-{SCHOOL}", school_id=SCHOOL),
        json={"pupil_id": PUPIL, "school_id": SCHOOL, "start_date": "2026-09-01"},
    )
    assert enrolled.status_code == 200, enrolled.text
    responsible = running.headers(RESPONSIBLE, school_admin_of=[SCHOOL])

    def send() -> httpx.Response:
        return http.post(
            f"{urls['access']}/v1/schools/{SCHOOL}/support-requests",
            headers=responsible,
            json={"pupil_id": PUPIL, "support_network": NETWORK, "question": "Wie helpt?"},
        )

    sent = wait_until(
        lambda: (answer := send()).status_code == 201 and answer,
        timeout=30,
        message="the access service to know the pupil is enrolled",
    )
    return str(sent.json()["support_request_id"])


def test_the_example_network_client_accepts_a_support_request_and_follows_the_approval(
    running, http
):
    credentials = operator_registers_the_network(running)
    support_request = school_sends_a_support_request(running, http)

    listed = finished(example(running, credentials, "list"))
    assert support_request in listed and "Wie helpt?" in listed
    accepted = finished(
        example(running, credentials, "accept", support_request, "--worker", WORKER)
    )
    found = re.search(r"access request (\S+) for " + WORKER, accepted)
    assert found is not None, accepted
    access_request = found.group(1)

    following = example(running, credentials, "follow", access_request, "--timeout", "60")
    approved = http.post(
        f"{running.urls['access']}/v1/schools/{SCHOOL}/access-requests/{access_request}/approve",
        headers=running.headers(RESPONSIBLE, school_admin_of=[SCHOOL]),
        json={},
    )
    assert approved.status_code == 200, approved.text
    followed = finished(following)
    assert f"access request {access_request}: approved" in followed


def test_a_network_s_own_token_opens_no_other_door(running, http):
    credentials = operator_registers_the_network(running)
    token = http.post(
        f"{running.urls['access']}/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": credentials["IRIS_CLIENT_ID"],
            "client_secret": credentials["IRIS_CLIENT_SECRET"],
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    urls = running.urls
    own = http.get(
        f"{urls['access']}/v1/support-networks/{NETWORK}/support-requests", headers=headers
    )
    assert own.status_code == 200
    report = http.get(f"{urls['viewer']}/pupils/{PUPIL}/report", headers=headers)
    assert report.status_code == 404  # denied like anyone without a grant
    listing = http.get(f"{urls['viewer']}/v1/schools/{SCHOOL}/pupils-with-report", headers=headers)
    assert listing.status_code == 403
    enrol = http.post(
        f"{urls['enrolment']}/v1/enrolments",
        headers=headers,
        json={"pupil_id": PUPIL, "school_id": SCHOOL, "start_date": "2026-09-01"},
    )
    assert enrol.status_code == 403
    reports = http.get(f"{urls['reports']}/v1/pupils/{PUPIL}/reports", headers=headers)
    assert reports.status_code == 403
    grants = http.get(f"{urls['access']}/v1/schools/{SCHOOL}/grants", headers=headers)
    assert grants.status_code == 403
