"""Grants kept by a school's user management (SCIM), on the in-memory register: what the
groups ask for is granted through the same use cases as the pages' grants, with source
"scim"; IRIS's own grants and SCIM's never change each other."""

from __future__ import annotations

from datetime import date

import pytest

from iris.insz import make_insz
from services.access import domain, service
from services.access.provisioning import provision, wanted_grants
from services.access.scim_provider import group_grant
from tests.access.fake_repository import FakeAccessRepository

TODAY = date(2026, 12, 2)
SCHOOL, OTHER = "031112", "047597"
TEACHER = make_insz("1985-03-15", 11)
SCIM = "scim:iris-idm"
RESPONSIBLE = make_insz("1970-01-01", 900)


def test_a_group_name_says_the_school_and_the_role() -> None:
    assert group_grant("IRIS-platform gebruiker — leraar — 031112") == ("031112", "teacher")
    assert group_grant("IRIS - Zorgcoördinator - 047597") == ("047597", "care_coordinator")
    en_dash = "x \u2013 leerlingbegeleider \u2013 126151"
    assert group_grant(en_dash) == ("126151", "pupil_counsellor")
    for bad in ("IRIS-platform gebruiker", "IRIS — directeur — 031112", "IRIS — leraar — 31"):
        with pytest.raises(domain.AccessRuleBroken) as refused:
            group_grant(bad)
        assert refused.value.field == "displayName"


def test_the_strongest_role_wins_at_a_school() -> None:
    wanted = wanted_grants([(SCHOOL, "teacher"), (SCHOOL, "care_coordinator"), (OTHER, "teacher")])
    assert wanted == {SCHOOL: "care_coordinator", OTHER: "teacher"}


def test_membership_grants_and_leaving_revokes_published_as_scim() -> None:
    repo = FakeAccessRepository()
    provision(repo, TEACHER, {SCHOOL: "teacher"}, SCIM, TODAY)
    held = repo.grant_of_person(SCHOOL, TEACHER)
    assert held is not None
    assert (held.role, held.status, held.source, held.pupil_ids) == (
        "teacher",
        "active",
        "scim",
        None,
    )
    assert [(e.status, e.source, e.changed_by) for e in repo.events] == [("active", "scim", SCIM)]

    # the same membership again changes nothing and publishes nothing
    provision(repo, TEACHER, {SCHOOL: "teacher"}, SCIM, TODAY)
    assert len(repo.events) == 1

    provision(repo, TEACHER, {}, SCIM, TODAY)
    assert [(e.status, e.source) for e in repo.events][-1] == ("revoked", "scim")
    assert [e.action for e in repo.entries] == ["grant.created", "grant.revoked"]


def test_a_running_iris_grant_is_left_as_it_is() -> None:
    repo = FakeAccessRepository()
    service.grant(repo, SCHOOL, TEACHER, "pupil_counsellor", TODAY, None, None, RESPONSIBLE, TODAY)
    provision(repo, TEACHER, {SCHOOL: "teacher"}, SCIM, TODAY)
    provision(repo, TEACHER, {}, SCIM, TODAY)
    held = repo.grant_of_person(SCHOOL, TEACHER)
    assert held is not None
    assert (held.role, held.status, held.source) == ("pupil_counsellor", "active", "iris")
    assert len(repo.events) == 1


def test_the_pages_refuse_to_change_or_revoke_a_scim_grant() -> None:
    repo = FakeAccessRepository()
    provision(repo, TEACHER, {SCHOOL: "teacher"}, SCIM, TODAY)
    held = repo.grant_of_person(SCHOOL, TEACHER)
    assert held is not None
    with pytest.raises(domain.AccessRuleBroken) as refused:
        service.grant(repo, SCHOOL, TEACHER, "care_coordinator", TODAY, None, None, "x", TODAY)
    assert (refused.value.status, refused.value.code) == (409, "managed_by_scim")
    with pytest.raises(domain.AccessRuleBroken) as refused:
        service.revoke(repo, SCHOOL, str(held.grant_id), RESPONSIBLE)
    assert refused.value.code == "managed_by_scim"
    assert len(repo.events) == 1


def test_a_revoked_scim_grant_may_be_granted_anew_in_iris() -> None:
    repo = FakeAccessRepository()
    provision(repo, TEACHER, {SCHOOL: "teacher"}, SCIM, TODAY)
    provision(repo, TEACHER, {}, SCIM, TODAY)
    outcome = service.grant(
        repo, SCHOOL, TEACHER, "teacher", TODAY, None, None, RESPONSIBLE, TODAY, "new"
    )
    assert (outcome.grant.status, outcome.grant.source) == ("active", "iris")
    assert repo.events[-1].source == "iris"


def test_a_role_change_keeps_the_grants_start() -> None:
    repo = FakeAccessRepository()
    provision(repo, TEACHER, {SCHOOL: "teacher"}, SCIM, TODAY)
    provision(repo, TEACHER, {SCHOOL: "care_coordinator"}, SCIM, date(2027, 1, 5))
    held = repo.grant_of_person(SCHOOL, TEACHER)
    assert held is not None
    assert (held.role, held.valid_from, held.version) == ("care_coordinator", TODAY, 2)


def test_a_support_worker_group_at_a_special_school_is_refused() -> None:
    repo = FakeAccessRepository({SCHOOL: "special"})
    with pytest.raises(domain.AccessRuleBroken) as refused:
        provision(repo, TEACHER, {SCHOOL: "support_worker"}, SCIM, TODAY)
    assert refused.value.code == "mainstream_only"
    assert repo.events == []
