"""The access register's use cases on the in-memory repository: the rules between the
pure domain and the database (what is stored, audited and published), without one."""

from __future__ import annotations

import json
from datetime import date

import pytest

from iris.errors import NotFound
from iris.insz import make_insz
from services.access import domain, service
from services.access.domain import AccessRuleBroken
from tests.access.fake_repository import FakeAccessRepository

TODAY = date(2026, 11, 28)
SCHOOL, SPECIAL = "100", "200"
RESPONSIBLE = make_insz("1970-01-01", 900)
TEACHER, WORKER = make_insz("1985-03-15", 1), make_insz("1985-03-15", 2)
PUPILS = [make_insz("2014-05-06", 1), make_insz("2014-05-06", 2)]


@pytest.fixture
def repo() -> FakeAccessRepository:
    return FakeAccessRepository({SCHOOL: "mainstream", SPECIAL: "special"})


def grant_teacher(
    repo: FakeAccessRepository,
    valid_until: date | None = None,
    pupil_ids: list[str] | None = None,
) -> service.Outcome:
    return service.grant(
        repo,
        SCHOOL,
        TEACHER,
        "teacher",
        date(2026, 9, 1),
        valid_until,
        pupil_ids,
        RESPONSIBLE,
        TODAY,
    )


def file_for_worker(repo: FakeAccessRepository, school: str = SCHOOL) -> str:
    row = service.file_request(repo, school, "netwerk", "desk", WORKER, PUPILS, "help")
    return row.request_id


def test_a_grant_is_stored_published_and_audited_once_and_repeating_it_changes_nothing(repo):
    first = grant_teacher(repo)
    again = grant_teacher(repo)
    assert (first.changed, again.changed) == (True, False)
    assert again.grant == first.grant
    assert [(e.person_id, e.version, e.changed_by) for e in repo.events] == [
        (TEACHER, 1, RESPONSIBLE)
    ]
    [entry] = service.audit_at(repo, SCHOOL)
    assert (entry.action, entry.before, json.loads(entry.after)["status"]) == (
        "grant.created",
        None,
        "active",
    )


def test_a_changed_grant_is_a_new_version_audited_with_before_and_after(repo):
    grant_teacher(repo)
    changed = grant_teacher(repo, pupil_ids=PUPILS)
    assert (changed.grant.version, changed.grant.pupil_ids) == (2, tuple(sorted(PUPILS)))
    latest = service.audit_at(repo, SCHOOL)[0]
    assert latest.action == "grant.updated"
    assert json.loads(latest.before)["pupil_ids"] is None
    assert json.loads(latest.after)["pupil_ids"] == sorted(PUPILS)


def test_a_support_worker_is_not_granted_at_a_special_school(repo):
    with pytest.raises(AccessRuleBroken) as caught:
        service.grant(
            repo, SPECIAL, WORKER, "support_worker", TODAY, None, PUPILS, RESPONSIBLE, TODAY
        )
    assert (caught.value.code, caught.value.field) == ("mainstream_only", "school_id")
    assert repo.grants == {} and repo.events == [] and repo.entries == []


def test_revoking_twice_publishes_once_and_an_unknown_grant_is_not_found(repo):
    grant_id = str(grant_teacher(repo).grant.grant_id)
    first = service.revoke(repo, SCHOOL, grant_id, RESPONSIBLE)
    second = service.revoke(repo, SCHOOL, grant_id, RESPONSIBLE)
    assert (first.changed, second.changed, second.grant.status) == (True, False, "revoked")
    assert [e.status for e in repo.events] == ["active", "revoked"]
    with pytest.raises(NotFound) as caught:
        service.revoke(repo, "999", grant_id, RESPONSIBLE)
    assert (caught.value.field, caught.value.status) == ("grant_id", 404)


def test_only_grants_whose_last_day_has_passed_expire_by_the_system(repo):
    grant_teacher(repo, valid_until=TODAY)
    assert service.expire_due(repo, TODAY) == []
    [expired] = service.expire_due(repo, date(2026, 11, 29))
    assert (expired.status, expired.version) == ("expired", 2)
    assert repo.events[-1].changed_by == domain.SYSTEM_EXPIRY
    assert service.audit_at(repo, SCHOOL)[0].action == "grant.expired"


def test_approving_gives_the_worker_a_grant_for_the_pupils_and_decides_once(repo):
    request_id = file_for_worker(repo)
    row, outcome = service.approve(repo, SCHOOL, request_id, RESPONSIBLE, TODAY)
    assert (row.status, row.grant_id) == ("approved", str(outcome.grant.grant_id))
    assert (outcome.grant.role, outcome.grant.pupil_ids) == ("support_worker", tuple(PUPILS))
    assert outcome.grant.valid_until == date(2030, 11, 28)
    assert repo.decided == [(request_id, RESPONSIBLE)]
    with pytest.raises(AccessRuleBroken) as caught:
        service.reject(repo, SCHOOL, request_id, "too late", RESPONSIBLE)
    assert (caught.value.code, caught.value.status) == ("already_decided", 409)
    actions = [e.action for e in service.audit_at(repo, SCHOOL)]
    assert actions == ["request.approved", "grant.created", "request.filed"]


def test_a_person_holding_another_role_is_not_approved_and_the_request_stays_pending(repo):
    service.grant(repo, SCHOOL, WORKER, "teacher", TODAY, None, None, RESPONSIBLE, TODAY)
    request_id = file_for_worker(repo)
    with pytest.raises(AccessRuleBroken) as caught:
        service.approve(repo, SCHOOL, request_id, RESPONSIBLE, TODAY)
    assert (caught.value.code, caught.value.field, caught.value.status) == (
        "holds_another_role",
        "person_id",
        409,
    )
    assert service.request_row(repo, request_id).status == "pending"
    assert repo.decided == []


def test_a_rejected_request_keeps_its_reason_and_gives_no_grant(repo):
    request_id = file_for_worker(repo)
    row = service.reject(repo, SCHOOL, request_id, "not at this school", RESPONSIBLE)
    assert (row.status, row.reason, row.decided_by) == (
        "rejected",
        "not at this school",
        RESPONSIBLE,
    )
    assert repo.grants == {} and repo.decided == [(request_id, RESPONSIBLE)]
    assert [r.request_id for r in service.requests_at(repo, SCHOOL, "rejected")] == [request_id]


def test_a_revoked_client_buys_nothing_with_its_secret_and_another_school_cannot_revoke_it(
    repo,
):
    row, secret = service.register_client(repo, SCHOOL, "Smartschool", RESPONSIBLE)
    with pytest.raises(NotFound):
        service.revoke_client(repo, SPECIAL, row.client_id, RESPONSIBLE)
    service.revoke_client(repo, SCHOOL, row.client_id, RESPONSIBLE)
    assert service.authenticate_client(repo, row.client_id, secret) is None
    assert [e.action for e in service.audit_at(repo, SCHOOL)] == [
        "client.revoked",
        "client.registered",
    ]


def test_support_requests_are_sent_from_schools_where_a_coordinator_grant_runs_today(repo):
    coordinator = make_insz("1980-01-01", 7)
    for school, until in ((SCHOOL, None), ("300", date(2026, 11, 27))):
        service.grant(
            repo,
            school,
            coordinator,
            "care_coordinator",
            date(2026, 9, 1),
            until,
            None,
            RESPONSIBLE,
            date(2026, 9, 1),
        )
    assert service.schools_sending_support_requests(repo, coordinator, TODAY) == [SCHOOL]


def test_republishing_queues_every_grant_as_it_stands_with_its_last_changer(repo):
    grant_id = str(grant_teacher(repo).grant.grant_id)
    service.revoke(repo, SCHOOL, grant_id, "someone-else")
    repo.events.clear()
    assert service.republish(repo) == 1
    assert [(e.status, e.version, e.changed_by) for e in repo.events] == [
        ("revoked", 2, "someone-else")
    ]
