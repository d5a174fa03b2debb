"""Grants kept by a school's user management (SCIM): what a person's group memberships
ask for, made so through the same use cases as the pages' grants (`services.access.service`),
so each change is audited and published on `iris.access.grants` with `source` "scim".

A person gets, at each school one of their groups names, the role of that group (the
strongest when several groups name the same school: care coordinator, pupil counsellor,
teacher, support worker), for the whole school and without an end (a support worker's
grant ends after four years). A grant the person holds from IRIS's pages stays as it is
while it runs; SCIM takes over only where the person has no running grant."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from services.access import domain, service
from services.access.repository import AccessRepository

ROLE_ORDER: tuple[domain.Role, ...] = (
    "care_coordinator",
    "pupil_counsellor",
    "teacher",
    "support_worker",
)
ALL_ROLES: tuple[str, ...] = ROLE_ORDER


def wanted_grants(memberships: Iterable[tuple[str, domain.Role]]) -> dict[str, domain.Role]:
    """School → role from the (school, role) of each group an active user is in."""
    wanted: dict[str, domain.Role] = {}
    for school_id, role in memberships:
        held = wanted.get(school_id)
        if held is None or ROLE_ORDER.index(role) < ROLE_ORDER.index(held):
            wanted[school_id] = role
    return wanted


def provision(
    repo: AccessRepository,
    person_id: str,
    wanted: dict[str, domain.Role],
    actor: str,
    today: date,
    name: str | None = None,
) -> list[service.Outcome]:
    """Make the person's SCIM grants read as `wanted`: grant or change where a school is
    wanted, revoke the SCIM grants at schools no longer wanted. IRIS's running grants are
    left as they are. `name`, the user's display name, is kept with the grants."""
    held = {g.school_id for g in repo.active_grants_of(person_id, ALL_ROLES)}
    outcomes = []
    for school_id in sorted(set(wanted) | held):
        current = repo.grant_of_person(school_id, person_id)
        running = current is not None and current.status == "active"
        if current is not None and running and current.source != "scim":
            continue
        role = wanted.get(school_id)
        if role is None:
            if current is not None and running:
                grant_id = str(current.grant_id)
                outcomes.append(service.revoke(repo, school_id, grant_id, actor, "scim"))
            continue
        since = current.valid_from if current is not None and running else today
        outcomes.append(
            service.grant(
                repo,
                school_id,
                person_id,
                role,
                since,
                None,
                None,
                actor,
                today,
                "grant",
                "scim",
                person_name=name,
            )
        )
    return outcomes
