"""School software publishes submissions with kafka-python; the worker applies them."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer

from iris.insz import make_insz
from iris.kafka_acls import WORKER_APPS
from services.enrolment.api import create_app
from tests.conftest import settings_env
from tests.support import ServiceTopic, TopicReader, consumed, iris_process

SCHOOL = "52004"


def registration(pupil: str, start: str = "2026-09-01", **extra: object) -> dict[str, object]:
    return {
        "type": "EnrolmentRegistered",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-09-01T07:30:00Z",
        "pupil_id": pupil,
        "school_id": SCHOOL,
        "start_date": start,
        "source": "test-school-system",
        **extra,
    }


@pytest.fixture
def enrolment(make_settings, tmp_path):
    """The enrolment worker as its own process, and the API whose relay publishes the outbox."""
    settings = make_settings("enrolment")
    with (
        iris_process(["worker", "enrolment"], settings_env(settings), tmp_path / "worker.log"),
        TestClient(create_app(settings)),
    ):
        yield settings


def test_a_thousand_submissions_with_bad_and_duplicate_ones_yield_exactly_the_good_changes(
    enrolment, infra, issuer
):
    run = uuid.uuid4().hex[:6]
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL).encode()
    other_school_token = issuer.token("client:99999", school_id="99999").encode()
    good_header = [("authorization", b"Bearer " + token)]

    pupils = [make_insz("2015-03-01", serial) for serial in range(1, 941)]
    good = [registration(p, display_name=f"{run}-{i}") for i, p in enumerate(pupils)]
    submissions: list[tuple[str, bytes, list[tuple[str, bytes]]]] = [
        (g["pupil_id"], json.dumps(g).encode(), good_header)
        for g in good  # type: ignore[misc]
    ]
    # 25 redeliveries of the same event, 25 restatements of known facts under a new event id
    for g in good[:25]:
        submissions.append((g["pupil_id"], json.dumps(g).encode(), good_header))  # type: ignore[arg-type]
    for g in good[25:50]:
        again = {**g, "event_id": str(uuid.uuid4())}
        submissions.append((g["pupil_id"], json.dumps(again).encode(), good_header))  # type: ignore[arg-type]

    stranger = make_insz("2015-04-01", 1)
    bad = {
        "bad checksum": json.dumps(registration("15040100100", display_name=run)),
        "bad school": json.dumps({**registration(stranger, display_name=run), "school_id": "5-2"}),
        "bad date": json.dumps(registration(stranger, start="01/09/2026", display_name=run)),
        "end before start": json.dumps(
            registration(stranger, end_date="2026-01-01", display_name=run)
        ),
        "unknown type": json.dumps({**registration(stranger, display_name=run), "type": "Moved"}),
        "schema version": json.dumps(
            {**registration(stranger, display_name=run), "schema_version": 7}
        ),
        "not json": f"pupil {stranger} {run} enrolled",
        "ending the unknown": json.dumps(
            {
                **registration(stranger),
                "type": "EnrolmentEnded",
                "end_date": "2027-06-30",
                "display_name": run,
            }
        ),
    }
    for reason, value in bad.items():
        submissions.append((f"{run}:{reason}", value.encode(), good_header))
    no_token = json.dumps(registration(stranger, display_name=run)).encode()
    submissions.append((f"{run}:no token", no_token, []))
    wrong_school = json.dumps(registration(stranger, display_name=run)).encode()
    submissions.append(
        (f"{run}:wrong school", wrong_school, [("authorization", b"Bearer " + other_school_token)])
    )
    assert len(submissions) == 1000

    changes = ServiceTopic(enrolment, "enrolment", "iris.enrolment.changes")
    rejected = TopicReader(infra.kafka_bootstrap, "iris.enrolment.rejected")
    producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    for key, value, headers in submissions:
        producer.send("iris.enrolment.submitted", key=key.encode(), value=value, headers=headers)
    producer.flush()
    producer.close()

    def ours(messages):
        return [m for m in messages if run in (m.value.get("display_name") or "")]

    changes.read_until(lambda ms: len(ours(ms)) >= 940, timeout=90, message="940 changes")
    rejected.read_until(
        lambda ms: sum(run in (m.key or "") for m in ms) >= 10, timeout=60, message="10 rejects"
    )
    # the worker has consumed every submission and its outbox has sent every change
    consumed(infra.kafka_bootstrap, WORKER_APPS["enrolment"], "iris.enrolment.submitted")
    changes.settled()
    rejected.read_to_end()

    published = ours(changes.messages)
    per_pupil = Counter(m.pupil for m in published)
    assert len(published) == 940
    assert set(per_pupil) == set(pupils) and set(per_pupil.values()) == {1}
    assert {m.value["version"] for m in published} == {1}

    rejects = [m for m in rejected.messages if run in (m.key or "")]
    assert len(rejects) == 10
    for message in rejects:
        reject = message.value
        assert reject["type"] == "Rejected" and reject["topic"] == "iris.enrolment.submitted"
        assert reject["reason"] and reject["original"] is not None
    reasons = {m.key.split(":", 1)[1]: m.value["reason"] for m in rejects}  # type: ignore[union-attr]
    assert "pupil_id" in reasons["bad checksum"]
    assert "school_id" in reasons["bad school"]
    assert "start_date" in reasons["bad date"]
    assert "end_date" in reasons["end before start"]
    assert "Moved" in reasons["unknown type"]
    assert "schema_version" in reasons["schema version"]
    assert "JSON" in reasons["not json"]
    assert "not enrolled" in reasons["ending the unknown"]
    assert "authorization" in reasons["no token"]
    assert "another school" in reasons["wrong school"]
    assert bad["not json"] == next(
        m.value["original"] for m in rejects if m.key.endswith("not json")
    )
    changes.close()
    rejected.close()


def test_a_later_submission_changes_the_enrolment_and_publishes_the_next_version(
    enrolment, infra, issuer
):
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL).encode()
    me = make_insz("2015-05-05", 5)
    changes = TopicReader(infra.kafka_bootstrap, "iris.enrolment.changes")
    producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    headers = [("authorization", b"Bearer " + token)]
    producer.send(
        "iris.enrolment.submitted",
        key=me.encode(),
        value=json.dumps(registration(me)).encode(),
        headers=headers,
    )
    ended = {**registration(me), "type": "EnrolmentEnded", "end_date": "2027-03-31"}
    producer.send(
        "iris.enrolment.submitted",
        key=me.encode(),
        value=json.dumps(ended).encode(),
        headers=headers,
    )
    producer.flush()
    producer.close()

    changes.read_until(
        lambda ms: sum(m.pupil == me for m in ms) >= 2, timeout=60, message="changes"
    )
    mine = [m.value for m in changes.messages if m.pupil == me]
    assert [(v["version"], v["end_date"]) for v in mine] == [(1, None), (2, "2027-03-31")]
    changes.close()


def test_the_example_school_system_publishes_an_enrolment_that_the_worker_applies(
    enrolment, infra, issuer
):
    me = make_insz("2015-06-06", 6)
    changes = TopicReader(infra.kafka_bootstrap, "iris.enrolment.changes")
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL)
    example = Path(__file__).resolve().parents[2] / "examples" / "school_system.py"
    subprocess.run(
        [
            sys.executable,
            str(example),
            "--bootstrap",
            infra.kafka_bootstrap,
            "--token",
            token,
            "--school",
            SCHOOL,
            "--pupil",
            me,
            "--start",
            "2026-09-01",
            "--name",
            "Mila",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    changes.read_until(lambda ms: any(m.pupil == me for m in ms), timeout=60, message="the change")
    event = next(m.value for m in changes.messages if m.pupil == me)
    assert (event["school_id"], event["display_name"], event["version"]) == (SCHOOL, "Mila", 1)
    changes.close()


def test_the_worker_publishes_the_changes_it_applies_with_no_api_running(
    make_settings, infra, issuer, tmp_path
):
    settings = make_settings("enrolment")
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL).encode()
    run = uuid.uuid4().hex[:6]
    pupils = [make_insz("2015-07-07", serial) for serial in range(1, 31)]
    changes = TopicReader(infra.kafka_bootstrap, "iris.enrolment.changes")
    with iris_process(["worker", "enrolment"], settings_env(settings), tmp_path / "worker.log"):
        producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
        for serial, pupil in enumerate(pupils):
            for start in ("2026-09-01", "2026-09-02"):  # two versions per pupil, in order
                producer.send(
                    "iris.enrolment.submitted",
                    key=pupil.encode(),
                    value=json.dumps(registration(pupil, start, display_name=run)).encode(),
                    headers=[("authorization", b"Bearer " + token)],
                )
            if serial == 14:
                producer.flush()  # the rest arrive in another batch
        producer.flush()
        producer.close()
        changes.read_until(
            lambda ms: sum(m.value.get("display_name") == run for m in ms) >= 60,
            timeout=90,
            message="60 changes from the worker alone",
        )
    ours = [m for m in changes.messages if m.value.get("display_name") == run]
    for pupil in pupils:
        mine = [(m.value["version"], m.value["start_date"]) for m in ours if m.pupil == pupil]
        assert mine == [(1, "2026-09-01"), (2, "2026-09-02")]
    changes.close()
