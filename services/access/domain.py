"""Access rules, free of frameworks: what a grant, a revoke, an expiry or an approval changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from iris.errors import RuleBroken

Role = Literal["teacher", "care_coordinator", "pupil_counsellor", "support_worker"]
Status = Literal["active", "revoked", "expired"]
Source = Literal["iris", "scim"]
"""Who made a grant: IRIS's pages and API, or the school's user management over SCIM."""

SUPPORT_WORKER_YEARS = 4
OPEN_ENDED = date(9999, 12, 31)
"""`valid_until` of a grant given without an end (every role but support_worker)."""

SYSTEM_EXPIRY = "system:expiry"


class AccessRuleBroken(RuleBroken):
    """A change the access register cannot accept; `field` names the culprit and `code`
    the rule (the pages' sentence is chosen by it)."""

    field: str


def years_after(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Grant:
    """One person's access at one school: one grant per (school, person), versioned."""

    grant_id: uuid.UUID
    school_id: str
    person_id: str
    role: Role
    pupil_ids: tuple[str, ...] | None  # None: the whole school
    valid_from: date
    valid_until: date
    status: Status
    version: int
    source: Source = "iris"

    @property
    def key(self) -> str:
        return f"{self.school_id}:{self.person_id}"

    def summary(self) -> dict[str, object]:
        """What an audit entry records of a grant (no free text)."""
        return {
            "role": self.role,
            "pupil_ids": list(self.pupil_ids) if self.pupil_ids is not None else None,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "status": self.status,
            "version": self.version,
        }


def grant_period(role: str, valid_from: date, valid_until: date | None) -> date:
    """The end of a grant's period: a support worker's lasts at most four years."""
    if role == "support_worker":
        longest = years_after(valid_from, SUPPORT_WORKER_YEARS)
        if valid_until is None:
            return longest
        if valid_until > longest:
            raise AccessRuleBroken(
                "valid_until",
                "a support_worker grant ends at most %(years)s years after "
                "valid_from (on or before %(last_day)s)",
                code="support_worker_too_long",
                years=SUPPORT_WORKER_YEARS,
                last_day=longest.isoformat(),
            )
    if valid_until is None:
        return OPEN_ENDED
    if valid_until < valid_from:
        raise AccessRuleBroken(
            "valid_until", "valid_until lies before valid_from", code="ends_before_start"
        )
    return valid_until


def normalise_pupils(pupil_ids: list[str] | None) -> tuple[str, ...] | None:
    if pupil_ids is None:
        return None
    if not pupil_ids:
        raise AccessRuleBroken(
            "pupil_ids",
            "name at least one pupil, or leave pupil_ids out for the whole school",
            code="no_pupils",
        )
    return tuple(sorted(set(pupil_ids)))


def grant(
    current: Grant | None,
    school_id: str,
    person_id: str,
    role: Role,
    valid_from: date,
    valid_until: date | None,
    pupil_ids: list[str] | None,
    today: date,
) -> Grant | None:
    """The grant after granting (again), or None when it already reads exactly so.

    A grant states the whole of a person's access at the school: granting again
    replaces role, period and pupils, and makes a revoked or expired grant active.
    """
    until = grant_period(role, valid_from, valid_until)
    if until < today:
        raise AccessRuleBroken("valid_until", "valid_until lies in the past", code="ends_in_past")
    pupils = normalise_pupils(pupil_ids)
    if current is None:
        return Grant(
            uuid.uuid4(), school_id, person_id, role, pupils, valid_from, until, "active", 1
        )
    new = replace(
        current,
        role=role,
        pupil_ids=pupils,
        valid_from=valid_from,
        valid_until=until,
        status="active",
    )
    if new == current:
        return None
    return replace(new, version=current.version + 1)


GrantIntent = Literal["grant", "new", "change"]


def check_intent(current: Grant | None, intent: GrantIntent, today: date) -> None:
    """What the pages ask of a grant before it is saved (the API grants as it stands).

    "new" (the page "Grant access") never replaces a person's running access unseen: it is
    refused while the person holds an active grant that has not ended. "change" (the page
    "Change access") changes an active grant only: a revoked or expired grant is history,
    and giving that person access again is a new grant.
    """
    if intent == "new" and current is not None and gives_access_now_or_later(current, today):
        raise AccessRuleBroken(
            "person_id",
            "this person already has access at this school",
            409,
            code="already_granted",
        )
    if intent == "change" and (current is None or current.status != "active"):
        raise AccessRuleBroken(
            "grant_id",
            "this access no longer runs; grant access anew instead",
            409,
            code="not_active",
        )


def gives_access_now_or_later(grant: Grant, today: date) -> bool:
    return grant.status == "active" and grant.valid_until >= today


def check_source(current: Grant | None, source: Source) -> None:
    """A running grant is changed only by whom made it: the school's user management
    (SCIM) never touches IRIS's grants, and IRIS's pages and API never change a grant the
    user management keeps (they show it). A revoked or expired grant is history: either
    may give the person access anew."""
    if current is None or current.status != "active" or current.source == source:
        return
    if current.source == "scim":
        raise AccessRuleBroken(
            "grant_id",
            "this access is kept by the school's user management (SCIM); change or remove it there",
            409,
            code="managed_by_scim",
        )
    raise AccessRuleBroken(
        "grant_id",
        "this access was granted in IRIS; SCIM leaves it as it is",
        409,
        code="managed_in_iris",
    )


def revoke(current: Grant) -> Grant | None:
    """The grant after a revoke, or None when it no longer gives access anyway."""
    if current.status != "active":
        return None
    return replace(current, status="revoked", version=current.version + 1)


def expire(current: Grant, today: date) -> Grant | None:
    """The grant once its period has passed, or None while it still runs."""
    if current.status != "active" or current.valid_until >= today:
        return None
    return replace(current, status="expired", version=current.version + 1)


def approve_support(
    current: Grant | None,
    school_id: str,
    person_id: str,
    pupil_ids: list[str],
    today: date,
    valid_until: date | None = None,
) -> Grant | None:
    """The support-worker grant after approving a request for `pupil_ids`.

    An active support-worker grant is extended with the pupils (a whole-school
    grant already covers them), and with a new end when one is given; otherwise
    a new grant starts today, for four years unless `valid_until` is sooner. A
    person holding another active role keeps it: the approval is refused.
    """
    if current is not None and current.status == "active" and current.valid_until >= today:
        if current.role != "support_worker":
            raise AccessRuleBroken(
                "person_id",
                "this person already holds an active %(role)s grant at this school",
                409,
                code="holds_another_role",
                role=current.role,
            )
        pupils = None
        if current.pupil_ids is not None:
            pupils = list(set(current.pupil_ids) | set(pupil_ids))
        return grant(
            current,
            school_id,
            person_id,
            "support_worker",
            current.valid_from,
            valid_until or current.valid_until,
            pupils,
            today,
        )
    return grant(
        current, school_id, person_id, "support_worker", today, valid_until, pupil_ids, today
    )


# -- the register of schools ---------------------------------------------------------------

SchoolKind = Literal["mainstream", "special"]
MAINSTREAM_ONLY = (
    "only mainstream schools give support workers sight: this school is registered as "
    "special education (buitengewoon onderwijs)"
)


def require_mainstream(kind: str | None) -> None:
    """Support workers of a support network work in mainstream schools only.

    A school the register does not know is not refused: the register is loaded from
    the official list (`iris schools import`), and a gap in it must not lock a school out.
    """
    if kind == "special":
        raise AccessRuleBroken("school_id", MAINSTREAM_ONLY, code="mainstream_only")


# -- support requests (ondersteuningsvraag) ------------------------------------------------

SUPPORT_REQUEST_ROLES = ("care_coordinator", "pupil_counsellor")
"""Besides the school responsible, who may send and follow a school's support requests."""


def gives_sight_of(grant: Grant, pupil_id: str, today: date) -> bool:
    """An active grant, in its period, covering the pupil."""
    return (
        grant.status == "active"
        and grant.valid_from <= today <= grant.valid_until
        and (grant.pupil_ids is None or pupil_id in grant.pupil_ids)
    )


def may_ask_for_support(grant: Grant | None, pupil_id: str | None, today: date) -> bool:
    """A care coordinator or pupil counsellor in an active grant, covering the pupil when
    one is named: sends the school's support requests and follows those it could send."""
    if grant is None or grant.role not in SUPPORT_REQUEST_ROLES:
        return False
    if pupil_id is None:
        return grant.status == "active" and grant.valid_from <= today <= grant.valid_until
    return gives_sight_of(grant, pupil_id, today)


def is_registered_on(start_date: date, end_date: date | None, today: date) -> bool:
    """Registered at the school and not ended: sight starts at registration."""
    del start_date  # a registration for a later start counts from the day it is made
    return end_date is None or today <= end_date


def support_status(access_request_statuses: list[str]) -> str:
    """An accepted support request's status from the access requests it filed."""
    if not access_request_statuses or "pending" in access_request_statuses:
        return "accepted"
    if "approved" in access_request_statuses:
        return "granted"
    return "refused"


def answerable(status: str) -> None:
    if status != "sent":
        raise AccessRuleBroken(
            "support_request_id",
            "this support request was already %(state)s",
            409,
            code="already_answered",
            state=status,
        )
