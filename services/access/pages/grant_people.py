"""Who a grant is to and which pupils it names, by name: the people the school's grants
name (their INSZ masked beside), the school's registered pupils to tick, and the search
of people already known at the school."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from iris.insz import mask_insz
from services.access import domain
from services.access.models import AccessRequestRow, EnrolmentCopyRow, GrantRow
from services.access.pages.support import pupil_label


@dataclass(frozen=True)
class Names:
    """The names the pages show for INSZ numbers at one school."""

    people: dict[str, str]
    pupils: dict[str, str]

    def person(self, insz: str) -> str:
        return self.people.get(insz) or mask_insz(insz)

    def pupil(self, insz: str) -> str:
        return pupil_label(self.pupils.get(insz), insz)


def names_at(session: Session, school_id: str) -> Names:
    """The names of the school's grant holders (else as a network's request gave them)
    and of the pupils it registered."""
    asked = session.execute(
        select(AccessRequestRow.person_id, AccessRequestRow.person_name).where(
            AccessRequestRow.school_id == school_id, AccessRequestRow.person_name.is_not(None)
        )
    )
    granted = session.execute(
        select(GrantRow.person_id, GrantRow.person_name).where(
            GrantRow.school_id == school_id, GrantRow.person_name.is_not(None)
        )
    )
    people = [*asked, *granted]
    pupils = session.execute(
        select(EnrolmentCopyRow.pupil_id, EnrolmentCopyRow.display_name).where(
            EnrolmentCopyRow.school_id == school_id, EnrolmentCopyRow.display_name.is_not(None)
        )
    )
    return Names({p: n for p, n in people if n}, {p: n for p, n in pupils if n})


def grant_row_view(grant: domain.Grant, names: Names) -> dict[str, Any]:
    pupils = None if grant.pupil_ids is None else list(grant.pupil_ids)
    return {
        "grant_id": str(grant.grant_id),
        "person_id": grant.person_id,
        "person": names.person(grant.person_id),
        "person_masked": mask_insz(grant.person_id),
        "role": grant.role,
        "pupils": pupils,
        "pupil_labels": None if pupils is None else [names.pupil(p) for p in pupils],
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": (
            None if grant.valid_until == domain.OPEN_ENDED else grant.valid_until.isoformat()
        ),
        "status": grant.status,
        "source": grant.source,
    }


def pupil_choices(
    session: Session, school_id: str, chosen: list[str], today: Any
) -> list[dict[str, Any]]:
    """The school's registered pupils by name to tick, and any pupil already chosen that
    is registered no more."""
    rows = session.scalars(
        select(EnrolmentCopyRow)
        .where(EnrolmentCopyRow.school_id == school_id)
        .order_by(EnrolmentCopyRow.display_name, EnrolmentCopyRow.pupil_id)
    )
    listed = [
        (row.pupil_id, pupil_label(row.display_name, row.pupil_id))
        for row in rows
        if domain.is_registered_on(row.start_date, row.end_date, today) or row.pupil_id in chosen
    ]
    seen = {insz for insz, _ in listed}
    listed += [(p, pupil_label(None, p)) for p in chosen if p not in seen]
    return [
        {"insz": insz, "label": label, "checked": insz in chosen, "index": i}
        for i, (insz, label) in enumerate(listed)
    ]


def people_named(session: Session, school_id: str, typed: str) -> list[dict[str, Any]]:
    """The people the school's grants name whose name holds every typed word."""
    words = typed.casefold().split()
    if not words:
        return []
    rows = session.scalars(
        select(GrantRow)
        .where(GrantRow.school_id == school_id, GrantRow.person_name.is_not(None))
        .order_by(GrantRow.person_name)
    )
    return [
        {
            "grant_id": row.grant_id,
            "name": row.person_name,
            "masked": mask_insz(row.person_id),
            "status": row.status,
        }
        for row in rows
        if all(word in (row.person_name or "").casefold() for word in words)
    ][:50]


def known_person(session: Session, school_id: str, grant_id: str) -> dict[str, str] | None:
    """The person of one of the school's grants, to grant anew."""
    row = session.get(GrantRow, grant_id)
    if row is None or row.school_id != school_id:
        return None
    return {
        "person_id": row.person_id,
        "person_name": row.person_name or "",
        "masked": mask_insz(row.person_id),
    }
