from __future__ import annotations

import json
from datetime import timedelta

from iris.contracts import ACCESS_GRANTS
from services.access.expiry import expire_once
from services.access.republish import republish
from tests.access.conftest import Access, of_school, person, published, pupil, school_id
from tests.support import ServiceTopic


def test_a_grant_an_update_a_revoke_and_an_expiry_each_publish_one_change_with_a_higher_version(
    access: Access, grants_topic: ServiceTopic
):
    school, teacher = school_id(), person(1)
    today = access.clock.today
    granted = access.grant(school, person_id=teacher, role="teacher", valid_from=today.isoformat())
    assert granted.status_code == 200, granted.text
    grant = granted.json()
    assert (grant["status"], grant["version"], grant["valid_until"]) == ("active", 1, "9999-12-31")

    updated = access.grant(
        school,
        person_id=teacher,
        role="care_coordinator",
        valid_from=today.isoformat(),
        pupil_ids=[pupil(1)],
    ).json()
    assert (updated["grant_id"], updated["version"]) == (grant["grant_id"], 2)

    revoked = access.client.post(
        f"/v1/schools/{school}/grants/{grant['grant_id']}/revoke",
        json={},
        headers=access.responsible(school),
    ).json()
    assert (revoked["status"], revoked["version"]) == ("revoked", 3)

    regranted = access.grant(
        school,
        person_id=teacher,
        role="teacher",
        valid_from=today.isoformat(),
        valid_until=(today + timedelta(days=1)).isoformat(),
    ).json()
    assert (regranted["status"], regranted["version"]) == ("active", 4)

    access.clock.advance(days=2)  # nobody calls: the scheduler notices and publishes

    events = published(grants_topic, school, 5)
    assert [(e["status"], e["version"]) for e in events] == [
        ("active", 1),
        ("active", 2),
        ("revoked", 3),
        ("active", 4),
        ("expired", 5),
    ]
    assert {m.key for m in grants_topic.messages if m.key and m.key.startswith(school)} == {
        f"{school}:{teacher}"
    }
    assert [e["changed_by"] for e in events] == [access.responsible_id] * 4 + ["system:expiry"]
    assert events[1]["role"] == "care_coordinator" and events[1]["pupil_ids"] == [pupil(1)]
    for event in events:
        ACCESS_GRANTS.parse(json.dumps(event))
    latest = access.audit(school)[0]
    assert (latest["action"], latest["actor"]) == ("grant.expired", "system:expiry")
    assert [g["status"] for g in access.grants(school)] == ["expired"]


def test_a_grant_still_running_is_not_expired(access: Access, grants_topic: ServiceTopic):
    school, teacher = school_id(), person(2)
    today = access.clock.today
    access.grant(
        school,
        person_id=teacher,
        role="teacher",
        valid_from=today.isoformat(),
        valid_until=(today + timedelta(days=1)).isoformat(),
    )
    access.clock.advance(days=1)  # the last valid day
    expire_once(access.deps)
    assert [g["status"] for g in access.grants(school)] == ["active"]
    assert [e["version"] for e in published(grants_topic, school, 1)] == [1]


def test_granting_the_same_again_or_revoking_a_revoked_grant_changes_nothing(
    access: Access, grants_topic: ServiceTopic
):
    school, teacher = school_id(), person(3)
    body = {"person_id": teacher, "role": "teacher", "valid_from": "2026-09-01"}
    grant = access.grant(school, **body).json()
    again = access.grant(school, **body).json()
    assert (again["version"], again["changed"]) == (1, False)
    revoke = f"/v1/schools/{school}/grants/{grant['grant_id']}/revoke"
    first = access.client.post(revoke, headers=access.responsible(school))
    second = access.client.post(revoke, headers=access.responsible(school))
    assert first.json()["version"] == 2
    assert second.status_code == 200
    assert (second.json()["status"], second.json()["version"]) == ("revoked", 2)
    assert [e["version"] for e in published(grants_topic, school, 2)] == [1, 2]


def test_a_support_worker_grant_defaults_to_four_years(access: Access):
    school = school_id()
    answer = access.grant(
        school, person_id=person(4), role="support_worker", valid_from="2026-09-01"
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["valid_until"] == "2030-09-01"


def test_a_five_year_support_worker_grant_is_refused_with_the_reason(
    access: Access, grants_topic: ServiceTopic
):
    school = school_id()
    answer = access.grant(
        school,
        person_id=person(5),
        role="support_worker",
        valid_from="2026-09-01",
        valid_until="2031-09-01",
    )
    assert answer.status_code == 422
    assert answer.json()["fields"] == ["valid_until"]
    assert "4 years" in answer.json()["detail"][0]["msg"]
    assert access.grants(school) == []
    assert access.audit(school) == []
    assert of_school(grants_topic.settled(), school) == []


def test_bad_grant_inputs_get_a_clear_4xx_naming_the_field_and_change_nothing(
    access: Access, grants_topic: ServiceTopic
):
    school, teacher = school_id(), person(6)
    existing = access.grant(
        school, person_id=teacher, role="teacher", valid_from="2026-09-01"
    ).json()
    good = {"person_id": teacher, "role": "teacher", "valid_from": "2026-09-01"}
    wrong_insz = access.grant(school, **{**good, "person_id": "85031500100"})
    assert (wrong_insz.status_code, wrong_insz.json()["fields"]) == (422, ["person_id"])
    assert "85031500100" not in wrong_insz.text
    unknown_role = access.grant(school, **{**good, "role": "janitor"})
    assert (unknown_role.status_code, unknown_role.json()["fields"]) == (422, ["role"])
    backwards = access.grant(school, **{**good, "valid_until": "2026-08-31"})
    assert (backwards.status_code, backwards.json()["fields"]) == (422, ["valid_until"])
    bad_pupil = access.grant(school, **{**good, "pupil_ids": ["12345678901"]})
    assert (bad_pupil.status_code, bad_pupil.json()["fields"]) == (422, ["pupil_ids.0"])
    unknown = access.client.post(
        f"/v1/schools/{school}/grants/00000000-0000-4000-8000-000000000000/revoke",
        headers=access.responsible(school),
    )
    assert (unknown.status_code, unknown.json()["fields"]) == (404, ["grant_id"])

    assert access.grants(school) == [{**existing, "changed": False}]
    assert len(access.audit(school)) == 1
    assert [e["version"] for e in published(grants_topic, school, 1)] == [1]


def test_the_list_filters_grants_by_role_and_status(access: Access):
    school = school_id()
    for serial, role in [(7, "teacher"), (8, "teacher"), (9, "pupil_counsellor")]:
        access.grant(school, person_id=person(serial), role=role, valid_from="2026-09-01")
    grant_id = access.grants(school, role="pupil_counsellor")[0]["grant_id"]
    access.client.post(
        f"/v1/schools/{school}/grants/{grant_id}/revoke", headers=access.responsible(school)
    )
    assert {g["person_id"] for g in access.grants(school, role="teacher")} == {
        person(7),
        person(8),
    }
    assert [g["grant_id"] for g in access.grants(school, status="revoked")] == [grant_id]
    assert access.grants(school, role="support_worker") == []
    bad = access.client.get(
        f"/v1/schools/{school}/grants",
        params={"status": "paused"},
        headers=access.responsible(school),
    )
    assert (bad.status_code, bad.json()["fields"]) == (422, ["status"])


def test_a_responsible_of_one_school_cannot_see_grant_or_revoke_at_another(
    access: Access, grants_topic: ServiceTopic
):
    school_a, school_b = school_id(), school_id()
    at_b = access.grant(
        school_b, person_id=person(10), role="teacher", valid_from="2026-09-01"
    ).json()
    of_a = access.responsible(school_a)
    base = f"/v1/schools/{school_b}"
    attempts = [
        access.client.get(f"{base}/grants", headers=of_a),
        access.client.get(f"{base}/grants/{at_b['grant_id']}", headers=of_a),
        access.client.post(
            f"{base}/grants",
            json={"person_id": person(11), "role": "teacher", "valid_from": "2026-09-01"},
            headers=of_a,
        ),
        access.client.post(f"{base}/grants/{at_b['grant_id']}/revoke", headers=of_a),
        access.client.get(f"{base}/audit", headers=of_a),
        access.client.get(f"{base}/clients", headers=of_a),
        access.client.post(f"{base}/clients", json={"name": "x"}, headers=of_a),
        # the grant of school B is not found through school A either
        access.client.post(
            f"/v1/schools/{school_a}/grants/{at_b['grant_id']}/revoke", headers=of_a
        ),
    ]
    assert [a.status_code for a in attempts] == [403] * 7 + [404]
    assert access.grants(school_b) == [{**at_b, "changed": False}]
    assert [e["version"] for e in published(grants_topic, school_b, 1)] == [1]


def test_anyone_but_a_responsible_person_is_refused(access: Access):
    school = school_id()
    grants = f"/v1/schools/{school}/grants"
    assert access.client.get(grants).status_code == 401
    assert (
        access.client.get(grants, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    )
    staff = access.issuer.headers(person(12))
    assert access.client.get(grants, headers=staff).status_code == 403
    software = access.issuer.school_client(school)
    assert access.client.get(grants, headers=software).status_code == 403


def test_the_audit_trail_tells_the_responsible_who_changed_what_and_when(access: Access):
    school, teacher = school_id(), person(13)
    grant = access.grant(school, person_id=teacher, role="teacher", valid_from="2026-09-01").json()
    access.client.post(
        f"/v1/schools/{school}/grants/{grant['grant_id']}/revoke",
        headers=access.responsible(school),
    )
    trail = access.audit(school)
    assert [(e["action"], e["actor"], e["subject"]) for e in trail] == [
        ("grant.revoked", access.responsible_id, grant["grant_id"]),
        ("grant.created", access.responsible_id, grant["grant_id"]),
    ]
    assert trail[1]["before"] is None and trail[1]["after"]["status"] == "active"
    assert trail[0]["before"]["status"] == "active" and trail[0]["after"]["status"] == "revoked"
    assert all(e["person_id"] == teacher and e["at"] for e in trail)


def test_republishing_queues_every_current_grant_again(access: Access, grants_topic: ServiceTopic):
    school = school_id()
    for serial in (14, 15):
        access.grant(school, person_id=person(serial), role="teacher", valid_from="2026-09-01")
    published(grants_topic, school, 2)
    assert republish(access.settings) >= 2
    access.deps.publisher.notify()
    events = published(grants_topic, school, 4)
    assert sorted((e["person_id"], e["version"]) for e in events) == sorted(
        [(person(14), 1), (person(15), 1)] * 2
    )
