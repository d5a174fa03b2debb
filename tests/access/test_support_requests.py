"""The support request (ondersteuningsvraag) over HTTP and Kafka: the school sends it,
the support network accepts or declines, the school responsible decides the access
requests it filed, and every step is published without the question's text."""

from __future__ import annotations

from datetime import date
from typing import Any

from kafka import KafkaProducer

from iris.contracts import ACCESS_SUPPORT_REQUESTS, ENROLMENT_CHANGES, EnrolmentChanged
from iris.db import make_engine, make_sessionmaker, transaction
from services.access import enrolments, schools
from services.access.models import EnrolmentCopyRow
from tests.access.conftest import TODAY, Access, person, pupil, school_id
from tests.conftest import settings_env
from tests.support import TopicReader, iris_process, wait_until

NETWORK = "ondersteuningsnetwerk-gent"
QUESTION = "Noor heeft moeite met lezen; wat kan de klas nog doen? (vertrouwelijk-4711)"


def in_access_db(access: Access, work: Any) -> Any:
    engine = make_engine(access.settings.database_url_for("access"))
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return work(session)
    finally:
        engine.dispose()


def register_pupil(access: Access, school: str, who: str, end: date | None = None) -> None:
    """As `iris worker access` does on an EnrolmentChanged from the enrolment register."""
    change = EnrolmentChanged(
        pupil_id=who,
        school_id=school,
        start_date=date(2027, 9, 1),  # registered ahead: it counts from now
        end_date=end,
        display_name="Noor Peeters",
        version=1 if end is None else 2,
    )
    in_access_db(access, lambda s: enrolments.fold(s, [change]))


def school_of_kind(access: Access, kind: str) -> str:
    school = school_id()
    entry = schools.School(school, f"School {school}", kind)
    in_access_db(access, lambda s: schools.import_schools(s, [entry]))
    return school


def care_coordinator(access: Access, school: str, serial: int = 40) -> dict[str, str]:
    who = person(serial)
    granted = access.grant(school, person_id=who, role="care_coordinator", valid_from="2026-09-01")
    assert granted.status_code == 200, granted.text
    return access.issuer.headers(who)


def send(access: Access, school: str, who: str, headers: dict[str, str]) -> Any:
    return access.client.post(
        f"/v1/schools/{school}/support-requests",
        json={"pupil_id": who, "support_network": NETWORK, "question": QUESTION},
        headers=headers,
    )


def test_the_care_coordinator_asks_the_network_accepts_and_the_responsible_approves(
    access: Access, infra: Any
):
    topic = TopicReader(infra.kafka_bootstrap, ACCESS_SUPPORT_REQUESTS.name)
    school, noor, worker = school_of_kind(access, "mainstream"), pupil(61), person(61)
    register_pupil(access, school, noor)
    sent = send(access, school, noor, care_coordinator(access, school))
    assert sent.status_code == 201, sent.text
    request = sent.json()
    assert (request["status"], request["pupil_name"]) == ("sent", "Noor Peeters")
    request_id = request["support_request_id"]

    inbox = access.client.get(
        f"/v1/support-networks/{NETWORK}/support-requests", headers=access.network(NETWORK)
    )
    assert [r["question"] for r in inbox.json() if r["support_request_id"] == request_id] == [
        QUESTION
    ]
    accepted = access.client.post(
        f"/v1/support-networks/{NETWORK}/support-requests/{request_id}/accept",
        json={"support_workers": [worker]},
        headers=access.network(NETWORK),
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted"
    (filed,) = accepted.json()["support_workers"]
    assert (filed["person_id"], filed["status"]) == (worker, "pending")

    pending = access.client.get(
        f"/v1/schools/{school}/access-requests",
        params={"status": "pending"},
        headers=access.responsible(school),
    ).json()
    assert [(r["person_id"], r["pupil_ids"]) for r in pending] == [(worker, [noor])]
    approved = access.client.post(
        f"/v1/schools/{school}/access-requests/{filed['request_id']}/approve",
        json={},
        headers=access.responsible(school),
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["grant"]["pupil_ids"] == [noor]

    followed = access.client.get(
        f"/v1/schools/{school}/support-requests/{request_id}", headers=access.responsible(school)
    ).json()
    assert followed["status"] == "granted"
    assert followed["support_workers"][0]["status"] == "approved"

    steps = topic.read_until(
        lambda ms: sum(m.key == request_id for m in ms) >= 3, message="three steps"
    )
    ours = [m for m in steps if m.key == request_id]
    assert [(m.value["status"], m.value["version"]) for m in ours] == [
        ("sent", 1),
        ("accepted", 2),
        ("granted", 3),
    ]
    assert ours[1].value["support_workers"] == [worker]
    assert all(b"vertrouwelijk-4711" not in m.raw for m in ours), "the question stays off Kafka"
    topic.close()


def test_another_network_neither_reads_nor_answers_the_request(access: Access):
    school, noor = school_of_kind(access, "mainstream"), pupil(62)
    register_pupil(access, school, noor)
    request_id = send(access, school, noor, access.responsible(school)).json()["support_request_id"]
    other = access.network("ondersteuningsnetwerk-antwerpen")
    listed = access.client.get(f"/v1/support-networks/{NETWORK}/support-requests", headers=other)
    assert listed.status_code == 403
    own_inbox = access.client.get(
        "/v1/support-networks/ondersteuningsnetwerk-antwerpen/support-requests", headers=other
    )
    assert request_id not in {r["support_request_id"] for r in own_inbox.json()}
    stolen = access.client.post(
        f"/v1/support-networks/ondersteuningsnetwerk-antwerpen/support-requests/{request_id}/accept",
        json={"support_workers": [person(62)]},
        headers=other,
    )
    assert stolen.status_code == 404


def test_a_declined_request_shows_the_reason_to_the_school_and_cannot_be_answered_again(
    access: Access,
):
    school, noor = school_of_kind(access, "mainstream"), pupil(63)
    register_pupil(access, school, noor)
    request_id = send(access, school, noor, access.responsible(school)).json()["support_request_id"]
    base = f"/v1/support-networks/{NETWORK}/support-requests/{request_id}"
    declined = access.client.post(
        f"{base}/decline", json={"reason": "geen capaciteit"}, headers=access.network(NETWORK)
    )
    assert declined.status_code == 200, declined.text
    followed = access.client.get(
        f"/v1/schools/{school}/support-requests", headers=access.responsible(school)
    ).json()
    assert [(r["status"], r["decline_reason"]) for r in followed] == [
        ("declined", "geen capaciteit")
    ]
    again = access.client.post(
        f"{base}/accept", json={"support_workers": [person(63)]}, headers=access.network(NETWORK)
    )
    assert again.status_code == 409


def test_only_the_responsible_care_coordinators_and_pupil_counsellors_send_for_registered_pupils(
    access: Access,
):
    school, noor = school_of_kind(access, "mainstream"), pupil(64)
    register_pupil(access, school, noor)
    teacher = person(64)
    access.grant(school, person_id=teacher, role="teacher", valid_from="2026-09-01")
    assert send(access, school, noor, access.issuer.headers(teacher)).status_code == 403
    assert send(access, school, noor, access.issuer.headers(person(65))).status_code == 403
    assert send(access, school, noor, access.network(NETWORK)).status_code == 403

    counsellor = person(66)
    access.grant(school, person_id=counsellor, role="pupil_counsellor", valid_from="2026-09-01")
    stranger_pupil = send(access, school, pupil(67), access.issuer.headers(counsellor))
    assert stranger_pupil.status_code == 422
    assert stranger_pupil.json()["fields"] == ["pupil_id"]
    assert send(access, school, noor, access.issuer.headers(counsellor)).status_code == 201

    left = pupil(68)
    register_pupil(access, school, left, end=TODAY.replace(day=1))
    gone = send(access, school, left, access.responsible(school))
    assert gone.status_code == 422 and gone.json()["fields"] == ["pupil_id"]

    bad = access.client.post(
        f"/v1/schools/{school}/support-requests",
        json={"pupil_id": noor, "support_network": NETWORK, "question": ""},
        headers=access.responsible(school),
    )
    assert bad.status_code == 422 and "question" in bad.text


def test_the_access_worker_learns_registrations_from_the_enrolment_topic(
    access: Access, infra: Any, tmp_path: Any
):
    school, noor = school_of_kind(access, "mainstream"), pupil(69)
    producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    for change in (
        EnrolmentChanged(
            pupil_id=noor,
            school_id=school,
            start_date=date(2020, 9, 1),
            version=2,
            end_date=date(2026, 8, 31),
            display_name="Noor",
        ),
        # an older version arriving later changes nothing
        EnrolmentChanged(pupil_id=noor, school_id=school, start_date=date(2020, 9, 1), version=1),
    ):
        producer.send(ENROLMENT_CHANGES.name, key=noor.encode(), value=change.to_json())
    producer.send(ENROLMENT_CHANGES.name, key=b"x", value=b"not an enrolment change")
    producer.flush()
    worker_env = settings_env(access.settings)
    with iris_process(["worker", "access"], worker_env, tmp_path / "worker.log"):
        wait_until(
            lambda: in_access_db(
                access, lambda s: s.get(EnrolmentCopyRow, (noor, school)) is not None
            ),
            timeout=60,
            message="the worker to fold the registration",
        )
        ended = send(access, school, noor, access.responsible(school))
        assert ended.status_code == 422, "version 2 ended the enrolment; version 1 came late"
        producer.send(
            ENROLMENT_CHANGES.name,
            key=noor.encode(),
            value=EnrolmentChanged(
                pupil_id=noor, school_id=school, start_date=date(2027, 9, 1), version=3
            ).to_json(),
        )
        producer.flush()
        producer.close()
        wait_until(
            lambda: send(access, school, noor, access.responsible(school)).status_code == 201,
            timeout=60,
            message="a support request once the pupil is registered again",
        )


def test_a_counsellor_limited_to_some_pupils_follows_only_their_requests(access: Access):
    school, noor, liam = school_of_kind(access, "mainstream"), pupil(84), pupil(85)
    for who in (noor, liam):
        register_pupil(access, school, who)
    counsellor = person(84)
    limited = access.grant(
        school,
        person_id=counsellor,
        role="pupil_counsellor",
        valid_from="2026-09-01",
        pupil_ids=[noor],
    )
    assert limited.status_code == 200, limited.text
    about_liam = send(access, school, liam, access.responsible(school)).json()
    assert send(access, school, liam, access.issuer.headers(counsellor)).status_code == 403
    about_noor = send(access, school, noor, access.issuer.headers(counsellor))
    assert about_noor.status_code == 201

    listed = access.client.get(
        f"/v1/schools/{school}/support-requests", headers=access.issuer.headers(counsellor)
    ).json()
    assert [r["pupil_id"] for r in listed] == [noor]
    hidden = access.client.get(
        f"/v1/schools/{school}/support-requests/{about_liam['support_request_id']}",
        headers=access.issuer.headers(counsellor),
    )
    assert hidden.status_code == 403
    everything = access.client.get(
        f"/v1/schools/{school}/support-requests", headers=access.responsible(school)
    ).json()
    assert {r["pupil_id"] for r in everything} == {noor, liam}
