"""The access rules of the support request and of mainstream schools, without a database."""

import uuid
from datetime import date

import pytest

from services.access import domain
from services.access.domain import AccessRuleBroken, Grant

TODAY = date(2026, 11, 28)
NOOR, LIAM = "14050600101", "14050600202"


def grant_as(role: str, pupils: tuple[str, ...] | None = None, status: str = "active") -> Grant:
    return Grant(
        uuid.uuid4(),
        "31112",
        "85031500150",
        role,  # type: ignore[arg-type]
        pupils,
        date(2026, 9, 1),
        domain.OPEN_ENDED,
        status,  # type: ignore[arg-type]
        1,
    )


def test_care_coordinators_and_pupil_counsellors_ask_for_the_pupils_of_their_grant():
    assert domain.may_ask_for_support(grant_as("care_coordinator"), NOOR, TODAY)
    limited = grant_as("pupil_counsellor", (NOOR,))
    assert domain.may_ask_for_support(limited, NOOR, TODAY)
    assert not domain.may_ask_for_support(limited, LIAM, TODAY)
    assert domain.may_ask_for_support(limited, None, TODAY)


def test_teachers_support_workers_and_revoked_grants_do_not_ask():
    assert not domain.may_ask_for_support(grant_as("teacher"), NOOR, TODAY)
    assert not domain.may_ask_for_support(grant_as("support_worker"), NOOR, TODAY)
    assert not domain.may_ask_for_support(
        grant_as("care_coordinator", status="revoked"), NOOR, TODAY
    )
    assert not domain.may_ask_for_support(grant_as("care_coordinator"), NOOR, date(2026, 8, 31))
    assert not domain.may_ask_for_support(None, NOOR, TODAY)


def test_an_accepted_request_is_granted_once_no_access_request_waits_and_one_was_approved():
    assert domain.support_status(["pending", "approved"]) == "accepted"
    assert domain.support_status(["approved", "rejected"]) == "granted"
    assert domain.support_status(["rejected", "rejected"]) == "refused"


def test_a_request_is_answered_once():
    domain.answerable("sent")
    with pytest.raises(AccessRuleBroken) as caught:
        domain.answerable("declined")
    assert caught.value.status == 409


def test_a_registration_counts_from_when_it_is_made_until_it_ends():
    assert domain.is_registered_on(date(2027, 9, 1), None, TODAY)
    assert domain.is_registered_on(date(2020, 9, 1), TODAY, TODAY)
    assert not domain.is_registered_on(date(2020, 9, 1), date(2026, 11, 27), TODAY)


def test_only_a_school_known_as_special_is_refused_support_worker_sight():
    domain.require_mainstream("mainstream")
    domain.require_mainstream(None)
    with pytest.raises(AccessRuleBroken) as caught:
        domain.require_mainstream("special")
    assert caught.value.field == "school_id" and caught.value.status == 422
