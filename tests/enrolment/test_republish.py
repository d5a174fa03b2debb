"""After the topics are lost, `iris republish enrolment` re-emits the register's current state."""

from __future__ import annotations

import subprocess
import sys

from fastapi.testclient import TestClient

from iris.insz import make_insz
from services.enrolment.api import create_app
from tests.conftest import settings_env
from tests.support import ServiceTopic

SCHOOL = "70021"


def test_republish_queues_every_enrolment_at_its_current_version(make_settings, issuer, infra):
    settings = make_settings("enrolment")
    pupils = [make_insz("2016-08-08", serial) for serial in (11, 12, 13)]
    headers = issuer.school_client(SCHOOL)
    reader = ServiceTopic(settings, "enrolment", "iris.enrolment.changes")
    with TestClient(create_app(settings)) as client:
        for pupil in pupils:
            client.post(
                "/v1/enrolments",
                headers=headers,
                json={"pupil_id": pupil, "school_id": SCHOOL, "start_date": "2026-09-01"},
            )
        client.post(
            "/v1/enrolments/end",
            headers=headers,
            json={"pupil_id": pupils[0], "school_id": SCHOOL, "end_date": "2027-06-30"},
        )
        reader.read_until(lambda ms: sum(m.pupil in pupils for m in ms) >= 4, message="4 changes")

        done = subprocess.run(
            [sys.executable, "-m", "iris.cli", "republish", "enrolment"],
            env=settings_env(settings),
            capture_output=True,
            text=True,
            check=True,
        )
        assert "queued 3 events" in done.stdout

        reader.read_until(lambda ms: sum(m.pupil in pupils for m in ms) >= 7, message="republished")
    republished = [m.value for m in reader.settled() if m.pupil in pupils][4:]
    assert sorted((e["pupil_id"], e["version"], e["end_date"]) for e in republished) == sorted(
        [(pupils[0], 2, "2027-06-30"), (pupils[1], 1, None), (pupils[2], 1, None)]
    )
    reader.close()
