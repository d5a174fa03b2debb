"""On the running stack: a pupil who moves to another school leaves the old school's
sight without a word from it, and a support request gives one support worker sight
of that pupil's report and of no other."""

from __future__ import annotations

from datetime import date

import httpx

from iris.insz import make_insz
from tests.support import wait_until

SCHOOL_A, SCHOOL_B, CLB = "220001", "220002", "113001"
RESPONSIBLE_A = make_insz("1972-01-05", 21)
RESPONSIBLE_B = make_insz("1973-02-06", 22)
TEACHER_A = make_insz("1986-03-07", 23)
TEACHER_B = make_insz("1987-04-08", 24)
COORDINATOR_A = make_insz("1980-03-07", 25)
WORKER = make_insz("1990-04-08", 26)
CLB_STAFF = make_insz("1978-05-09", 27)
MOVER = make_insz("2015-06-10", 28)
SUPPORTED = make_insz("2015-07-11", 29)
CLASSMATE = make_insz("2015-08-12", 30)
NETWORK = "ondersteuningsnetwerk-e2e"


def enrol(running, http: httpx.Client, pupil: str, school: str, start: str) -> None:
    answer = http.post(
        f"{running.urls['enrolment']}/v1/enrolments",
        headers=running.headers(f"client:e2e-{school}", school_id=school),
        json={"pupil_id": pupil, "school_id": school, "start_date": start, "display_name": "E2E"},
    )
    assert answer.status_code == 200, answer.text


def issue_report(running, http: httpx.Client, pupil: str, advice: str) -> None:
    answer = http.post(
        f"{running.urls['reports']}/v1/pupils/{pupil}/reports",
        headers=running.headers(CLB_STAFF, clb_staff_of=[CLB]),
        json={
            "kind": "GC",
            "clb_id": CLB,
            "valid_from": "2026-09-01",
            "level": "primary",
            "content": {
                "needs": "Nood aan rust.",
                "advice": advice,
                "measures_taken": "Koptelefoon.",
                "reasoning": "Aanpassingen volstaan niet.",
            },
        },
    )
    assert answer.status_code == 201, answer.text


def grant(running, http, school: str, responsible: str, person: str, role: str) -> None:
    answer = http.post(
        f"{running.urls['access']}/v1/schools/{school}/grants",
        headers=running.headers(responsible, school_admin_of=[school]),
        json={"person_id": person, "role": role, "valid_from": "2026-09-01"},
    )
    assert answer.status_code == 200, answer.text


def report_page(running, http: httpx.Client, person: str, pupil: str) -> httpx.Response:
    return http.get(
        f"{running.urls['viewer']}/pupils/{pupil}/report", headers=running.headers(person)
    )


def test_a_move_to_another_school_ends_the_old_schools_sight_by_itself(running, http):
    enrol(running, http, MOVER, SCHOOL_A, "2025-09-01")
    issue_report(running, http, MOVER, "Advies voor wie verhuist.")
    grant(running, http, SCHOOL_A, RESPONSIBLE_A, TEACHER_A, "teacher")
    grant(running, http, SCHOOL_B, RESPONSIBLE_B, TEACHER_B, "teacher")
    wait_until(
        lambda: report_page(running, http, TEACHER_A, MOVER).status_code == 200,
        timeout=30,
        message="school A's teacher to see the report",
    )
    enrol(running, http, MOVER, SCHOOL_B, date.today().isoformat())  # school A says nothing
    wait_until(
        lambda: report_page(running, http, TEACHER_A, MOVER).status_code == 404,
        timeout=30,
        message="school A to lose sight from school B's start",
    )
    wait_until(
        lambda: "Advies voor wie verhuist." in report_page(running, http, TEACHER_B, MOVER).text,
        timeout=30,
        message="school B to gain sight",
    )


def test_a_support_request_gives_the_named_worker_sight_of_that_pupil_only(running, http):
    urls = running.urls
    for pupil in (SUPPORTED, CLASSMATE):
        enrol(running, http, pupil, SCHOOL_A, "2026-09-01")
        issue_report(running, http, pupil, f"Advies voor {pupil}.")
    grant(running, http, SCHOOL_A, RESPONSIBLE_A, COORDINATOR_A, "care_coordinator")
    coordinator = running.headers(COORDINATOR_A)

    def send() -> httpx.Response:
        return http.post(
            f"{urls['access']}/v1/schools/{SCHOOL_A}/support-requests",
            headers=coordinator,
            json={"pupil_id": SUPPORTED, "support_network": NETWORK, "question": "Hulp?"},
        )

    # the access worker learns the registration from iris.enrolment.changes
    sent = wait_until(
        lambda: (answer := send()).status_code == 201 and answer,
        timeout=30,
        message="the access service to know the pupil is enrolled",
    )
    request_id = sent.json()["support_request_id"]
    network = running.headers(f"network:{NETWORK}", support_network=NETWORK)
    accepted = http.post(
        f"{urls['access']}/v1/support-networks/{NETWORK}/support-requests/{request_id}/accept",
        headers=network,
        json={"support_workers": [WORKER]},
    )
    assert accepted.status_code == 200, accepted.text
    filed = accepted.json()["support_workers"][0]["request_id"]
    responsible = running.headers(RESPONSIBLE_A, school_admin_of=[SCHOOL_A])
    approved = http.post(
        f"{urls['access']}/v1/schools/{SCHOOL_A}/access-requests/{filed}/approve",
        headers=responsible,
        json={},
    )
    assert approved.status_code == 200, approved.text
    followed = http.get(
        f"{urls['access']}/v1/schools/{SCHOOL_A}/support-requests/{request_id}",
        headers=coordinator,
    )
    assert followed.json()["status"] == "granted"

    wait_until(
        lambda: f"Advies voor {SUPPORTED}." in report_page(running, http, WORKER, SUPPORTED).text,
        timeout=30,
        message="the support worker to read the supported pupil's report",
    )
    assert report_page(running, http, WORKER, CLASSMATE).status_code == 404
