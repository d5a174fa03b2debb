"""Over HTTP and Kafka: how far ahead a school may register, and a school change
that ends the old school's enrolment without a word from the old school."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer

from iris.insz import make_insz
from services.enrolment.api import create_app
from services.enrolment.service import belgian_today
from tests.conftest import settings_env
from tests.support import TopicReader, iris_process

OLD_SCHOOL, NEW_SCHOOL = "31112", "41559"
IN_SPRING = date(2027, 3, 15)


@pytest.fixture
def client(make_settings) -> Iterator[TestClient]:
    settings = make_settings("enrolment")
    with TestClient(create_app(settings, today=lambda: IN_SPRING)) as client:
        yield client


@pytest.fixture
def changes(infra) -> Iterator[TopicReader]:
    reader = TopicReader(infra.kafka_bootstrap, "iris.enrolment.changes")
    yield reader
    reader.close()


def register(client, issuer, pupil: str, school: str, start: str, **extra: object):
    return client.post(
        "/v1/enrolments",
        json={"pupil_id": pupil, "school_id": school, "start_date": start, **extra},
        headers=issuer.school_client(school),
    )


def test_a_school_registers_in_spring_for_the_next_school_year_but_not_beyond(client, issuer):
    pupil = make_insz("2016-01-02", 201)
    assert register(client, issuer, pupil, NEW_SCHOOL, "2027-09-01").status_code == 200
    assert register(client, issuer, pupil, NEW_SCHOOL, "2028-08-31").status_code == 200
    too_far = register(client, issuer, pupil, NEW_SCHOOL, "2028-09-01")
    assert too_far.status_code == 422
    assert too_far.json()["fields"] == ["start_date"]
    assert "2028-08-31" in too_far.json()["detail"][0]["msg"]


def test_registering_at_a_new_school_publishes_the_end_of_the_old_one(client, issuer, changes):
    pupil = make_insz("2016-01-02", 202)
    assert register(client, issuer, pupil, OLD_SCHOOL, "2023-09-01").status_code == 200
    moved = register(client, issuer, pupil, NEW_SCHOOL, "2027-09-01")
    assert moved.status_code == 200 and moved.json()["version"] == 1

    mine = changes.read_until(
        lambda ms: sum(m.pupil == pupil for m in ms) >= 3, message="three changes"
    )
    events = [m.value for m in mine if m.pupil == pupil]
    old_end = next(e for e in events if e["school_id"] == OLD_SCHOOL and e["version"] == 2)
    assert old_end["end_date"] == "2027-08-31"

    late_end = client.post(
        "/v1/enrolments/end",
        json={"pupil_id": pupil, "school_id": OLD_SCHOOL, "end_date": "2027-10-01"},
        headers=issuer.school_client(OLD_SCHOOL),
    )
    assert late_end.status_code == 200
    assert late_end.json()["changed"] is False and late_end.json()["version"] == 2
    assert late_end.json()["end_date"] == "2027-08-31"


def test_a_declared_combination_keeps_both_schools(client, issuer, changes):
    pupil = make_insz("2016-01-02", 203)
    register(client, issuer, pupil, OLD_SCHOOL, "2023-09-01")
    both = register(client, issuer, pupil, NEW_SCHOOL, "2027-09-01", combination=True)
    assert both.status_code == 200 and both.json()["combination"] is True
    listed = client.get(
        f"/v1/pupils/{pupil}/enrolments", headers=issuer.school_client(OLD_SCHOOL)
    ).json()
    assert [(e["end_date"], e["version"]) for e in listed] == [(None, 1)]


def submission(pupil: str, school: str, start: date) -> dict[str, object]:
    return {
        "type": "EnrolmentRegistered",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-09-01T07:30:00Z",
        "pupil_id": pupil,
        "school_id": school,
        "start_date": start.isoformat(),
        "source": "test-school-system",
    }


def test_over_kafka_a_move_ends_the_silent_old_school_and_a_far_start_is_rejected(
    make_settings, infra, issuer, tmp_path, changes
):
    settings = make_settings("enrolment")
    pupil = make_insz("2016-01-02", 204)
    far_pupil = make_insz("2016-01-02", 205)
    today = belgian_today()
    new_start = today + timedelta(days=30)
    rejected = TopicReader(infra.kafka_bootstrap, "iris.enrolment.rejected")
    with iris_process(["worker", "enrolment"], settings_env(settings), tmp_path / "worker.log"):
        producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
        for who, school, start in (
            (pupil, OLD_SCHOOL, date(2022, 9, 1)),
            (pupil, NEW_SCHOOL, new_start),
            (far_pupil, NEW_SCHOOL, today + timedelta(days=3 * 366)),
        ):
            token = issuer.token(f"client:{school}", school_id=school).encode()
            producer.send(
                "iris.enrolment.submitted",
                key=who.encode(),
                value=json.dumps(submission(who, school, start)).encode(),
                headers=[("authorization", b"Bearer " + token)],
            )
        producer.flush()
        producer.close()
        changes.read_until(
            lambda ms: any(m.pupil == pupil and m.value["version"] == 2 for m in ms),
            timeout=60,
            message="the old school's enrolment ended",
        )
        refused = rejected.read_until(
            lambda ms: any(m.key == far_pupil for m in ms), timeout=60, message="the rejection"
        )
    old_end = next(
        m.value for m in changes.messages if m.pupil == pupil and m.value["version"] == 2
    )
    assert old_end["school_id"] == OLD_SCHOOL
    assert old_end["end_date"] == (new_start - timedelta(days=1)).isoformat()
    reason = next(m.value["reason"] for m in refused if m.key == far_pupil)
    assert reason.startswith("start_date:")
    assert not any(m.pupil == far_pupil for m in changes.messages)
    rejected.close()
