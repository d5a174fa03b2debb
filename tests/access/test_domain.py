from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.access import domain
from services.access.domain import AccessRuleBroken, Grant
from services.access.secrets import hash_secret, verify_secret

TODAY = date(2026, 11, 28)
PERSON = "85031501283"
PUPILS = ("14050604012", "14050604111")


def active(role: domain.Role = "teacher", pupils: tuple[str, ...] | None = None) -> Grant:
    return Grant(
        uuid.uuid4(), "100", PERSON, role, pupils, date(2026, 9, 1), date(2027, 8, 31), "active", 3
    )


def test_a_first_grant_is_version_one_and_active():
    new = domain.grant(None, "100", PERSON, "teacher", date(2026, 9, 1), None, None, TODAY)
    assert new is not None
    assert (new.version, new.status, new.valid_until) == (1, "active", domain.OPEN_ENDED)


def test_a_support_worker_grant_lasts_four_years_unless_shorter():
    new = domain.grant(None, "100", PERSON, "support_worker", TODAY, None, None, TODAY)
    assert new is not None and new.valid_until == date(2030, 11, 28)
    shorter = domain.grant(
        None, "100", PERSON, "support_worker", TODAY, date(2027, 6, 30), None, TODAY
    )
    assert shorter is not None and shorter.valid_until == date(2027, 6, 30)


def test_a_support_worker_grant_longer_than_four_years_is_refused_naming_valid_until():
    with pytest.raises(AccessRuleBroken) as caught:
        domain.grant(None, "100", PERSON, "support_worker", TODAY, date(2031, 11, 28), None, TODAY)
    assert caught.value.field == "valid_until" and "4 years" in caught.value.message


def test_four_years_after_a_leap_day_is_the_28th_of_february():
    assert domain.years_after(date(2028, 2, 29), 4) == date(2032, 2, 29)
    assert domain.years_after(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_an_end_before_the_start_is_refused_naming_valid_until():
    with pytest.raises(AccessRuleBroken) as caught:
        domain.grant(None, "100", PERSON, "teacher", TODAY, date(2026, 11, 27), None, TODAY)
    assert caught.value.field == "valid_until"


def test_an_empty_pupil_list_is_refused_rather_than_read_as_the_whole_school():
    with pytest.raises(AccessRuleBroken) as caught:
        domain.grant(None, "100", PERSON, "teacher", TODAY, None, [], TODAY)
    assert caught.value.field == "pupil_ids"


def test_granting_the_same_again_changes_nothing_and_a_change_raises_the_version():
    current = active()
    same = domain.grant(
        current, "100", PERSON, "teacher", date(2026, 9, 1), date(2027, 8, 31), None, TODAY
    )
    assert same is None
    changed = domain.grant(
        current, "100", PERSON, "teacher", date(2026, 9, 1), date(2027, 8, 31), list(PUPILS), TODAY
    )
    assert changed is not None and changed.version == 4 and changed.pupil_ids == PUPILS
    assert changed.grant_id == current.grant_id


def test_granting_again_reactivates_a_revoked_grant():
    revoked = domain.revoke(active())
    assert revoked is not None and revoked.status == "revoked"
    again = domain.grant(
        revoked, "100", PERSON, "teacher", date(2026, 9, 1), date(2027, 8, 31), None, TODAY
    )
    assert again is not None and (again.status, again.version) == ("active", 5)


def test_revoking_a_grant_that_gives_no_access_changes_nothing():
    revoked = domain.revoke(active())
    assert revoked is not None
    assert domain.revoke(revoked) is None


def test_a_grant_expires_only_after_its_last_day():
    current = active()
    assert domain.expire(current, date(2027, 8, 31)) is None
    expired = domain.expire(current, date(2027, 9, 1))
    assert expired is not None and (expired.status, expired.version) == ("expired", 4)
    assert domain.expire(expired, date(2027, 9, 2)) is None


def test_an_approval_adds_its_pupils_to_an_active_support_worker_grant():
    current = active("support_worker", (PUPILS[0],))
    new = domain.approve_support(current, "100", PERSON, [PUPILS[1]], TODAY)
    assert new is not None and new.pupil_ids == PUPILS and new.version == 4
    assert domain.approve_support(new, "100", PERSON, [PUPILS[1]], TODAY) is None


def test_an_approval_for_a_whole_school_support_worker_changes_nothing():
    assert (
        domain.approve_support(active("support_worker"), "100", PERSON, [PUPILS[0]], TODAY) is None
    )


def test_an_approval_for_someone_with_another_active_role_is_refused():
    with pytest.raises(AccessRuleBroken) as caught:
        domain.approve_support(active("teacher"), "100", PERSON, list(PUPILS), TODAY)
    assert caught.value.status == 409


def test_an_approval_after_a_revoke_starts_a_fresh_four_year_grant_for_those_pupils():
    revoked = domain.revoke(active("support_worker"))
    new = domain.approve_support(revoked, "100", PERSON, [PUPILS[0]], TODAY)
    assert new is not None
    assert (new.status, new.valid_from, new.valid_until) == ("active", TODAY, date(2030, 11, 28))
    assert new.pupil_ids == (PUPILS[0],)


def test_a_secret_verifies_only_against_its_own_salted_hash():
    stored = hash_secret("s3cret")
    assert stored != hash_secret("s3cret")
    assert verify_secret("s3cret", stored)
    assert not verify_secret("s3cret!", stored)
    assert not verify_secret("s3cret", "garbage")


def test_an_approval_may_end_the_grant_sooner_but_not_later_than_four_years():
    sooner = domain.approve_support(None, "100", PERSON, [PUPILS[0]], TODAY, date(2027, 6, 30))
    assert sooner is not None and sooner.valid_until == date(2027, 6, 30)
    with pytest.raises(AccessRuleBroken) as caught:
        domain.approve_support(None, "100", PERSON, [PUPILS[0]], TODAY, date(2031, 11, 29))
    assert caught.value.field == "valid_until"
