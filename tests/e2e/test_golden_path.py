"""The golden path through all four services, over HTTP and Kafka, on the running stack."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import httpx
from kafka import KafkaProducer

from iris.insz import make_insz
from tests.support import wait_until

SCHOOL_A, SCHOOL_B, CLB = "210001", "210002", "113001"
RESPONSIBLE_A = make_insz("1972-01-05", 11)
RESPONSIBLE_B = make_insz("1973-02-06", 12)
TEACHER_A = make_insz("1986-03-07", 13)
TEACHER_B = make_insz("1987-04-08", 14)
CLB_STAFF = make_insz("1978-05-09", 15)
PUPIL = make_insz("2015-06-10", 16)


def content(version: int) -> dict[str, str]:
    return {
        "needs": f"Gouden pad versie {version}: nood aan een voorspelbare dag.",
        "advice": f"Advies versie {version}: visueel dagschema.",
        "measures_taken": f"Maatregelen versie {version}: koptelefoon, onvoldoende.",
        "reasoning": f"Motivering versie {version}: aanpassingen volstaan niet.",
    }


def school_software_token(running, http: httpx.Client, school: str, responsible: str) -> str:
    """The school responsible registers a client; the client exchanges its secret for a token."""
    client = http.post(
        f"{running.urls['access']}/v1/schools/{school}/clients",
        json={"name": f"administration package {school}"},
        headers=running.headers(responsible, school_admin_of=[school]),
    )
    assert client.status_code == 201, client.text
    answer = http.post(
        f"{running.urls['access']}/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client.json()["client_id"],
            "client_secret": client.json()["client_secret"],
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def page(running, http: httpx.Client, person: str, name: str) -> httpx.Response:
    return http.get(
        f"{running.urls['viewer']}/pupils/{PUPIL}/report",
        headers=running.headers(person, name=name),
    )


def shows(running, http, person: str, text: str) -> bool:
    answer = page(running, http, person, "Leraar")
    return answer.status_code == 200 and text in answer.text


def denied(running, http, person: str) -> bool:
    return page(running, http, person, "Leraar").status_code == 404


def listed(running, http, school: str, headers: dict[str, str]) -> list[dict]:
    answer = http.get(
        f"{running.urls['viewer']}/v1/schools/{school}/pupils-with-report", headers=headers
    )
    return answer.json()["pupils"] if answer.status_code == 200 else []


def test_enrol_report_grant_view_supersede_move_and_revoke(running, http):
    today = date.today()
    urls = running.urls
    clb = running.headers(CLB_STAFF, clb_staff_of=[CLB])
    responsible_a = running.headers(RESPONSIBLE_A, school_admin_of=[SCHOOL_A])
    responsible_b = running.headers(RESPONSIBLE_B, school_admin_of=[SCHOOL_B])
    token_a = school_software_token(running, http, SCHOOL_A, RESPONSIBLE_A)
    token_b = school_software_token(running, http, SCHOOL_B, RESPONSIBLE_B)

    # 1. School A's administration package enrols the pupil through Kafka.
    producer = KafkaProducer(**running.kafka("school"))
    producer.send(
        "iris.enrolment.submitted",
        key=PUPIL.encode(),
        value=json.dumps(
            {
                "type": "EnrolmentRegistered",
                "schema_version": 1,
                "event_id": str(uuid.uuid4()),
                "occurred_at": "2026-09-01T07:00:00Z",
                "pupil_id": PUPIL,
                "school_id": SCHOOL_A,
                "start_date": "2026-09-01",
                "display_name": "Gouden Pad",
                "source": "e2e",
            }
        ).encode(),
        headers=[("authorization", f"Bearer {token_a}".encode())],
    )
    producer.flush()
    producer.close()

    # 2. The CLB issues a report; 3. the responsible grants a teacher.
    v1 = http.post(
        f"{urls['reports']}/v1/pupils/{PUPIL}/reports",
        headers=clb,
        json={
            "kind": "IAC",
            "clb_id": CLB,
            "valid_from": "2026-09-01",
            "type": "9",
            "level": "primary",
            "content": content(1),
        },
    )
    assert v1.status_code == 201, v1.text
    grant = http.post(
        f"{urls['access']}/v1/schools/{SCHOOL_A}/grants",
        headers=responsible_a,
        json={"person_id": TEACHER_A, "role": "teacher", "valid_from": "2026-09-01"},
    )
    assert grant.status_code == 200, grant.text

    # 4. The teacher sees the report, and school A's software flags the pupil.
    wait_until(
        lambda: shows(running, http, TEACHER_A, content(1)["advice"]),
        timeout=90,
        message="the teacher to see version 1",
    )
    flagged = listed(running, http, SCHOOL_A, {"Authorization": f"Bearer {token_a}"})
    assert [(p["pupil_id"], p["version"], p["kind"]) for p in flagged] == [(PUPIL, 1, "IAC")]

    # 5. A new version supersedes it: only the new one shows.
    v2 = http.post(
        f"{urls['reports']}/v1/pupils/{PUPIL}/reports",
        headers=clb,
        json={
            "kind": "IAC",
            "clb_id": CLB,
            "valid_from": "2026-10-01",
            "type": "9",
            "level": "primary",
            "content": content(2),
        },
    )
    assert v2.status_code == 201, v2.text
    wait_until(
        lambda: shows(running, http, TEACHER_A, content(2)["advice"]),
        timeout=30,
        message="the teacher to see version 2",
    )
    assert content(1)["advice"] not in page(running, http, TEACHER_A, "Leraar").text
    wait_until(
        lambda: (
            [
                p["version"]
                for p in listed(running, http, SCHOOL_A, {"Authorization": f"Bearer {token_a}"})
            ]
            == [2]
        ),
        message="the flag to show version 2",
    )

    # 6. The pupil moves: school A ends the enrolment yesterday, school B enrols from today.
    ended = http.post(
        f"{urls['enrolment']}/v1/enrolments/end",
        headers={"Authorization": f"Bearer {token_a}"},
        json={
            "pupil_id": PUPIL,
            "school_id": SCHOOL_A,
            "end_date": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert ended.status_code == 200, ended.text
    moved = http.post(
        f"{urls['enrolment']}/v1/enrolments",
        headers={"Authorization": f"Bearer {token_b}"},
        json={
            "pupil_id": PUPIL,
            "school_id": SCHOOL_B,
            "start_date": today.isoformat(),
            "display_name": "Gouden Pad",
        },
    )
    assert moved.status_code == 200, moved.text
    wait_until(
        lambda: denied(running, http, TEACHER_A), timeout=30, message="school A to lose sight"
    )
    assert denied(running, http, TEACHER_B), "no grant at school B yet"
    grant_b = http.post(
        f"{urls['access']}/v1/schools/{SCHOOL_B}/grants",
        headers=responsible_b,
        json={"person_id": TEACHER_B, "role": "care_coordinator", "valid_from": "2026-09-01"},
    )
    assert grant_b.status_code == 200, grant_b.text
    wait_until(
        lambda: shows(running, http, TEACHER_B, content(2)["advice"]),
        timeout=30,
        message="school B to gain sight after its grant",
    )
    assert listed(running, http, SCHOOL_A, {"Authorization": f"Bearer {token_a}"}) == []

    # 7. The grant is revoked: the teacher is denied (how soon is measured in bench/).
    revoked = http.post(
        f"{urls['access']}/v1/schools/{SCHOOL_B}/grants/{grant_b.json()['grant_id']}/revoke",
        headers=responsible_b,
        json={},
    )
    assert revoked.status_code == 200, revoked.text
    wait_until(lambda: denied(running, http, TEACHER_B), timeout=30, message="the revoke")

    # Every view was recorded; the parent sees who looked.
    parent = running.headers(make_insz("1984-07-11", 17), parent_of=[PUPIL])
    views = wait_until(
        lambda: http.get(f"{urls['viewer']}/v1/pupils/{PUPIL}/views", headers=parent).json(),
        message="the views",
    )
    assert {v["person_id"] for v in views} == {TEACHER_A, TEACHER_B}
    assert {v["version"] for v in views} <= {1, 2}
