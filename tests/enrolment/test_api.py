"""The enrolment API over HTTP, with the outbox publishing to the test broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from iris.insz import make_insz
from iris.settings import Settings
from services.enrolment.api import create_app
from tests.support import ServiceTopic

SCHOOL = "31112"
OTHER_SCHOOL = "41559"


@pytest.fixture
def settings(make_settings) -> Settings:

    settings: Settings = make_settings("enrolment")
    return settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def changes(settings: Settings) -> Iterator[ServiceTopic]:
    reader = ServiceTopic(settings, "enrolment", "iris.enrolment.changes")
    yield reader
    reader.close()


def pupil(serial: int) -> str:
    return make_insz("2014-02-03", serial)


def test_a_school_registers_a_pupil_and_the_change_is_published(client, issuer, changes):
    me = pupil(101)
    answer = client.post(
        "/v1/enrolments",
        json={
            "pupil_id": me,
            "school_id": SCHOOL,
            "start_date": "2026-09-01",
            "display_name": "Noor",
        },
        headers=issuer.school_client(SCHOOL),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 1

    mine = changes.read_until(lambda ms: any(m.pupil == me for m in ms), message="EnrolmentChanged")
    event = next(m.value for m in mine if m.pupil == me)
    assert event["type"] == "EnrolmentChanged"
    assert event["school_id"] == SCHOOL and event["start_date"] == "2026-09-01"
    assert event["display_name"] == "Noor" and event["version"] == 1


def test_the_same_facts_again_publish_nothing_and_an_end_raises_the_version(
    client, issuer, changes
):
    me = pupil(102)
    body = {"pupil_id": me, "school_id": SCHOOL, "start_date": "2026-09-01"}
    headers = issuer.school_client(SCHOOL)
    assert client.post("/v1/enrolments", json=body, headers=headers).json()["changed"] is True
    assert client.post("/v1/enrolments", json=body, headers=headers).json()["changed"] is False
    ended = client.post(
        "/v1/enrolments/end",
        json={"pupil_id": me, "school_id": SCHOOL, "end_date": "2027-01-31"},
        headers=headers,
    )
    assert ended.json()["version"] == 2

    changes.read_until(lambda ms: sum(m.pupil == me for m in ms) >= 2, message="two changes")
    versions = [m.value["version"] for m in changes.settled() if m.pupil == me]
    assert versions == [1, 2]


def test_a_school_cannot_register_at_another_school(client, issuer):
    answer = client.post(
        "/v1/enrolments",
        json={"pupil_id": pupil(103), "school_id": OTHER_SCHOOL, "start_date": "2026-09-01"},
        headers=issuer.school_client(SCHOOL),
    )
    assert answer.status_code == 403
    assert "school_id" in answer.json()["detail"]


def test_a_person_token_is_not_a_school_client(client, issuer):
    answer = client.post(
        "/v1/enrolments",
        json={"pupil_id": pupil(104), "school_id": SCHOOL, "start_date": "2026-09-01"},
        headers=issuer.headers(pupil(1), school_admin_of=[SCHOOL]),
    )
    assert answer.status_code == 403


def test_requests_without_a_valid_token_are_unauthorised(client, issuer):
    body = {"pupil_id": pupil(105), "school_id": SCHOOL, "start_date": "2026-09-01"}
    assert client.post("/v1/enrolments", json=body).status_code == 401
    expired = issuer.token(f"client:{SCHOOL}", ttl=-60, school_id=SCHOOL)
    answer = client.post(
        "/v1/enrolments", json=body, headers={"Authorization": f"Bearer {expired}"}
    )
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    other_audience = issuer.token(f"client:{SCHOOL}", audience="somebody-else", school_id=SCHOOL)
    answer = client.post(
        "/v1/enrolments", json=body, headers={"Authorization": f"Bearer {other_audience}"}
    )
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "change, field",
    [
        ({"pupil_id": "12345678901"}, "pupil_id"),
        ({"school_id": "12AB"}, "school_id"),
        ({"start_date": "1/9/2026"}, "start_date"),
        ({"end_date": "2026-08-01"}, "end_date"),
        ({"start_date": None}, "start_date"),
    ],
)
def test_bad_input_gets_422_naming_the_field(client, issuer, change, field):
    body = {"pupil_id": pupil(106), "school_id": SCHOOL, "start_date": "2026-09-01", **change}
    answer = client.post("/v1/enrolments", json=body, headers=issuer.school_client(SCHOOL))
    assert answer.status_code == 422
    assert field in answer.json()["fields"]


def test_ending_an_unknown_enrolment_is_404_naming_the_pupil(client, issuer):
    answer = client.post(
        "/v1/enrolments/end",
        json={"pupil_id": pupil(107), "school_id": SCHOOL, "end_date": "2027-01-31"},
        headers=issuer.school_client(SCHOOL),
    )
    assert answer.status_code == 404
    assert answer.json()["fields"] == ["pupil_id"]


def test_a_school_sees_only_its_own_enrolments_of_a_pupil(client, issuer):
    me = pupil(108)
    for school in (SCHOOL, OTHER_SCHOOL):
        client.post(
            "/v1/enrolments",
            json={"pupil_id": me, "school_id": school, "start_date": "2026-09-01"},
            headers=issuer.school_client(school),
        )
    answer = client.get(f"/v1/pupils/{me}/enrolments", headers=issuer.school_client(SCHOOL))
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert [e["school_id"] for e in seen] == [SCHOOL]
