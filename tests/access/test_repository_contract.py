"""The in-memory repository answers as the SQL adapter does: the same scenario on both,
so the use-case tests on the fake (test_service_fake.py) speak for the real register."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest

from iris.db import make_engine, make_sessionmaker
from iris.insz import make_insz
from iris.settings import Settings
from services.access import service
from services.access.repository import AccessRepository, SqlAccessRepository
from services.access.schools import School, import_schools
from tests.access.fake_repository import FakeAccessRepository

TODAY = date(2026, 11, 28)
RESPONSIBLE = make_insz("1970-01-01", 900)
SCHOOL, OTHER, SPECIAL = "100", "300", "200"


@pytest.fixture(params=["fake", "sql"])
def repo(request: pytest.FixtureRequest) -> Iterator[AccessRepository]:
    if request.param == "fake":
        yield FakeAccessRepository({SCHOOL: "mainstream", SPECIAL: "special"})
        return
    make_settings: Callable[..., Settings] = request.getfixturevalue("make_settings")
    url = make_settings("access").database_url_for("access")
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        import_schools(
            session,
            [
                School(SCHOOL, "Mainstream", "mainstream", "", None),
                School(SPECIAL, "Special", "special", "", None),
            ],
        )
        yield SqlAccessRepository(session)
        session.rollback()
    engine.dispose()


def teacher(repo: AccessRepository, school: str, serial: int, until: date | None = None) -> str:
    person = make_insz("1985-03-15", serial)
    outcome = service.grant(
        repo, school, person, "teacher", date(2026, 9, 1), until, None, RESPONSIBLE, TODAY
    )
    return str(outcome.grant.grant_id)


def test_both_find_grants_by_school_in_person_order_and_only_at_their_school(repo):
    ids = [teacher(repo, SCHOOL, serial) for serial in (3, 1, 2)]
    teacher(repo, OTHER, 4)
    people = [g.person_id for g in service.grants_at(repo, SCHOOL)]
    assert people == sorted(people) and len(people) == 3
    assert service.grants_at(repo, SCHOOL, status="revoked") == []
    assert repo.grant(OTHER, ids[0]) is None
    assert repo.grant(SCHOOL, ids[0]) is not None
    assert repo.school_kind(SPECIAL) == "special" and repo.school_kind(OTHER) is None


def test_both_hand_out_grants_due_for_expiry_oldest_first_up_to_the_limit(repo):
    for serial, days in ((5, 3), (6, 1), (7, 2)):
        teacher(repo, SCHOOL, serial, TODAY + timedelta(days=days))
    later = TODAY + timedelta(days=10)
    due = repo.due_for_expiry(later, 2)
    assert [g.valid_until for g in due] == [TODAY + timedelta(days=1), TODAY + timedelta(days=2)]
    assert repo.due_for_expiry(TODAY, 10) == []


def test_both_keep_requests_clients_and_the_audit_per_school(repo):
    worker = make_insz("1985-03-15", 8)
    pupil = make_insz("2014-05-06", 1)
    filed = service.file_request(repo, SCHOOL, "netwerk", "desk", worker, [pupil], "help")
    service.reject(repo, SCHOOL, filed.request_id, "no", RESPONSIBLE)
    client, _secret = service.register_client(repo, SCHOOL, "Smartschool", RESPONSIBLE)
    assert repo.request(filed.request_id, OTHER) is None
    assert [r.status for r in repo.requests_at(SCHOOL)] == ["rejected"]
    assert repo.client(OTHER, client.client_id) is None
    assert repo.client_by_id(client.client_id) is client
    actions = [e.action for e in repo.audit_at(SCHOOL, 2)]
    assert actions == ["client.registered", "request.rejected"]
    assert repo.audit_at(OTHER, 10) == []


def test_both_remember_who_changed_each_grant_last(repo):
    grant_id = teacher(repo, SCHOOL, 9)
    service.revoke(repo, SCHOOL, grant_id, "someone-else")
    assert [(g.status, by) for g, by in repo.every_grant()] == [("revoked", "someone-else")]
