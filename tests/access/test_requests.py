from __future__ import annotations

from typing import Any

from tests.access.conftest import Access, of_school, person, published, pupil, school_id
from tests.support import ServiceTopic

NETWORK = "ondersteuningsnetwerk-gent"


def file_request(access: Access, school: str, worker: str, pupils: list[str]) -> Any:
    return access.client.post(
        f"/v1/schools/{school}/access-requests",
        json={
            "person_id": worker,
            "pupil_ids": pupils,
            "support_network": NETWORK,
            "motivation": "supports these pupils in class",
        },
        headers=access.network(NETWORK),
    )


def decide(access: Access, school: str, request_id: str, verdict: str, **body: str) -> Any:
    return access.client.post(
        f"/v1/schools/{school}/access-requests/{request_id}/{verdict}",
        json=body,
        headers=access.responsible(school),
    )


def test_an_approved_request_yields_a_support_worker_grant_limited_to_those_pupils(
    access: Access, grants_topic: ServiceTopic
):
    school, worker = school_id(), person(20)
    filed = file_request(access, school, worker, [pupil(2), pupil(1)])
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["request_id"]
    pending = access.client.get(
        f"/v1/schools/{school}/access-requests",
        params={"status": "pending"},
        headers=access.responsible(school),
    ).json()
    assert [r["request_id"] for r in pending] == [request_id]

    approved = decide(access, school, request_id, "approve")
    assert approved.status_code == 200, approved.text
    grant = approved.json()["grant"]
    assert (grant["role"], grant["person_id"], grant["pupil_ids"]) == (
        "support_worker",
        worker,
        sorted([pupil(1), pupil(2)]),
    )
    assert (grant["valid_from"], grant["valid_until"]) == ("2026-11-28", "2030-11-28")
    assert approved.json()["grant_id"] == grant["grant_id"]

    outcome = access.client.get(
        f"/v1/access-requests/{request_id}", headers=access.network(NETWORK)
    ).json()
    assert (outcome["status"], outcome["grant_id"]) == ("approved", grant["grant_id"])
    assert access.grants(school) == [{**grant, "changed": False}]
    [event] = published(grants_topic, school, 1)
    assert (event["role"], event["pupil_ids"], event["status"]) == (
        "support_worker",
        grant["pupil_ids"],
        "active",
    )


def test_a_second_approved_request_adds_its_pupils_to_the_grant(
    access: Access, grants_topic: ServiceTopic
):
    school, worker = school_id(), person(21)
    first = file_request(access, school, worker, [pupil(3)]).json()["request_id"]
    decide(access, school, first, "approve")
    second = file_request(access, school, worker, [pupil(4), pupil(3)]).json()["request_id"]
    grant = decide(access, school, second, "approve").json()["grant"]
    assert (grant["pupil_ids"], grant["version"]) == (sorted([pupil(3), pupil(4)]), 2)
    events = published(grants_topic, school, 2)
    assert [(e["version"], len(e["pupil_ids"])) for e in events] == [(1, 1), (2, 2)]


def test_a_rejected_request_yields_no_grant_and_the_network_reads_why(
    access: Access, grants_topic: ServiceTopic
):
    school = school_id()
    request_id = file_request(access, school, person(22), [pupil(5)]).json()["request_id"]
    rejected = decide(access, school, request_id, "reject", reason="pupil left the school")
    assert rejected.status_code == 200, rejected.text
    outcome = access.client.get(
        f"/v1/access-requests/{request_id}", headers=access.network(NETWORK)
    ).json()
    assert (outcome["status"], outcome["reason"], outcome["grant_id"]) == (
        "rejected",
        "pupil left the school",
        None,
    )
    assert access.grants(school) == []
    assert of_school(grants_topic.settled(), school) == []


def test_a_replayed_decision_is_refused_and_changes_nothing(
    access: Access, grants_topic: ServiceTopic
):
    school = school_id()
    request_id = file_request(access, school, person(23), [pupil(6)]).json()["request_id"]
    assert decide(access, school, request_id, "approve").status_code == 200
    again = decide(access, school, request_id, "approve")
    assert (again.status_code, again.json()["fields"]) == (409, ["request_id"])
    reject = decide(access, school, request_id, "reject", reason="changed my mind")
    assert reject.status_code == 409
    assert [g["version"] for g in access.grants(school)] == [1]
    assert [e["version"] for e in published(grants_topic, school, 1)] == [1]
    assert [e["action"] for e in access.audit(school)] == [
        "request.approved",
        "grant.created",
        "request.filed",
    ]


def test_bad_request_inputs_get_a_clear_4xx_and_change_nothing(access: Access):
    school = school_id()
    unknown = decide(access, school, "00000000-0000-4000-8000-000000000000", "approve")
    assert (unknown.status_code, unknown.json()["fields"]) == (404, ["request_id"])
    no_reason = decide(access, school, "00000000-0000-4000-8000-000000000000", "reject")
    assert (no_reason.status_code, no_reason.json()["fields"]) == (422, ["reason"])
    no_pupils = file_request(access, school, person(24), [])
    assert (no_pupils.status_code, no_pupils.json()["fields"]) == (422, ["pupil_ids"])
    bad_worker = file_request(access, school, "12345678901", [pupil(7)])
    assert (bad_worker.status_code, bad_worker.json()["fields"]) == (422, ["person_id"])
    assert (
        access.client.get(
            "/v1/access-requests/00000000-0000-4000-8000-000000000000",
            headers=access.network(NETWORK),
        ).status_code
        == 404
    )
    listed = access.client.get(
        f"/v1/schools/{school}/access-requests", headers=access.responsible(school)
    ).json()
    assert listed == [] and access.grants(school) == [] and access.audit(school) == []


def test_only_a_support_network_files_requests_and_only_in_its_own_name(access: Access):
    school = school_id()
    body = {
        "person_id": person(25),
        "pupil_ids": [pupil(8)],
        "support_network": NETWORK,
        "motivation": "support",
    }
    path = f"/v1/schools/{school}/access-requests"
    as_person = access.client.post(path, json=body, headers=access.issuer.headers(person(26)))
    assert as_person.status_code == 403
    as_other = access.client.post(path, json=body, headers=access.network("another-network"))
    assert as_other.status_code == 403
    assert "support_network" in as_other.json()["detail"]
    as_responsible = access.client.post(path, json=body, headers=access.responsible(school))
    assert as_responsible.status_code == 403


def test_another_network_cannot_read_the_outcome(access: Access):
    school = school_id()
    request_id = file_request(access, school, person(27), [pupil(9)]).json()["request_id"]
    other = access.client.get(
        f"/v1/access-requests/{request_id}", headers=access.network("another-network")
    )
    assert other.status_code == 403
    responsible = access.client.get(
        f"/v1/access-requests/{request_id}", headers=access.responsible(school)
    )
    assert responsible.status_code == 200


def test_a_responsible_of_one_school_cannot_list_approve_or_reject_at_another(
    access: Access, grants_topic: ServiceTopic
):
    school_a, school_b = school_id(), school_id()
    request_id = file_request(access, school_b, person(28), [pupil(10)]).json()["request_id"]
    of_a = access.responsible(school_a)
    attempts = [
        access.client.get(f"/v1/schools/{school_b}/access-requests", headers=of_a),
        access.client.post(
            f"/v1/schools/{school_b}/access-requests/{request_id}/approve", headers=of_a
        ),
        access.client.post(
            f"/v1/schools/{school_b}/access-requests/{request_id}/reject",
            json={"reason": "no"},
            headers=of_a,
        ),
        access.client.get(f"/v1/access-requests/{request_id}", headers=of_a),
        # through school A's own path the request of school B is not found
        access.client.post(
            f"/v1/schools/{school_a}/access-requests/{request_id}/approve", headers=of_a
        ),
    ]
    assert [a.status_code for a in attempts] == [403, 403, 403, 403, 404]
    still = access.client.get(
        f"/v1/access-requests/{request_id}", headers=access.network(NETWORK)
    ).json()
    assert still["status"] == "pending"
    assert access.grants(school_b) == [] and access.grants(school_a) == []
    assert of_school(grants_topic.settled(), school_b) == []


def test_approving_for_someone_who_holds_another_role_is_refused(access: Access):
    school, teacher = school_id(), person(29)
    access.grant(school, person_id=teacher, role="teacher", valid_from="2026-09-01")
    request_id = file_request(access, school, teacher, [pupil(11)]).json()["request_id"]
    refused = decide(access, school, request_id, "approve")
    assert (refused.status_code, refused.json()["fields"]) == (409, ["person_id"])
    assert [(g["role"], g["version"]) for g in access.grants(school)] == [("teacher", 1)]
    outcome = access.client.get(
        f"/v1/access-requests/{request_id}", headers=access.network(NETWORK)
    ).json()
    assert outcome["status"] == "pending"


def test_the_responsible_may_approve_for_a_shorter_period_but_not_for_five_years(
    access: Access, grants_topic: ServiceTopic
):
    school = school_id()
    request_id = file_request(access, school, person(30), [pupil(12)]).json()["request_id"]
    too_long = decide(access, school, request_id, "approve", valid_until="2031-11-28")
    assert (too_long.status_code, too_long.json()["fields"]) == (422, ["valid_until"])
    assert access.grants(school) == []
    shorter = decide(access, school, request_id, "approve", valid_until="2027-06-30")
    assert shorter.json()["grant"]["valid_until"] == "2027-06-30"
    assert [e["valid_until"] for e in published(grants_topic, school, 1)] == ["2027-06-30"]
