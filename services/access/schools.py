"""The register of schools: institution number, name, kind (mainstream or special),
address. The access service owns it because it decides who gets sight; it is loaded
from a CSV file with `iris schools import FILE.csv`.

Column layout (a header row, comma-separated, UTF-8):

    institution_number,name,kind,address,clb_id

`kind` is `mainstream` or `special` (also `gewoon` / `buitengewoon`); `address` and
`clb_id` (the institution number of the CLB serving the school) may be empty or left
out. Importing again updates the schools it names and keeps the others.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from iris.insz import institution_problem
from services.access.models import SchoolRow

COLUMNS = ("institution_number", "name", "kind", "address", "clb_id")
KINDS = {
    "mainstream": "mainstream",
    "gewoon": "mainstream",
    "special": "special",
    "buitengewoon": "special",
}


class SchoolFileError(ValueError):
    """A line of the file that does not fit the column layout; names line and column."""


@dataclass(frozen=True)
class School:
    school_id: str
    name: str
    kind: str
    address: str | None = None
    clb_id: str | None = None


def parse_schools(text: str) -> list[School]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or [])]
    if missing:
        raise SchoolFileError(f"line 1: missing column(s) {', '.join(missing)}")
    schools = []
    for line, row in enumerate(reader, start=2):
        number = (row.get("institution_number") or "").strip()
        name = (row.get("name") or "").strip()
        kind = KINDS.get((row.get("kind") or "").strip().lower())
        if institution_problem(number) is not None:
            raise SchoolFileError(f"line {line}: institution_number {number!r} is not valid")
        if not name:
            raise SchoolFileError(f"line {line}: name is empty")
        if kind is None:
            raise SchoolFileError(f"line {line}: kind must be mainstream or special")
        address = (row.get("address") or "").strip() or None
        clb_id = (row.get("clb_id") or "").strip() or None
        if clb_id is not None and institution_problem(clb_id) is not None:
            raise SchoolFileError(f"line {line}: clb_id {clb_id!r} is not valid")
        schools.append(School(number, name, kind, address, clb_id))
    return schools


def import_schools(session: Session, schools: list[School]) -> int:
    for school in schools:
        row = session.get(SchoolRow, school.school_id)
        if row is None:
            row = SchoolRow(school_id=school.school_id)
            session.add(row)
        row.name, row.kind, row.address = school.name, school.kind, school.address
        row.clb_id = school.clb_id
    session.flush()
    return len(schools)


def kind_of(session: Session, school_id: str) -> str | None:
    return session.scalar(select(SchoolRow.kind).where(SchoolRow.school_id == school_id))


def school_named(session: Session, school_id: str) -> School | None:
    row = session.get(SchoolRow, school_id)
    if row is None:
        return None
    return School(row.school_id, row.name, row.kind, row.address, row.clb_id)


def names_of(session: Session, school_ids: list[str]) -> dict[str, str]:
    """The register's name of each of these schools that it knows."""
    rows = session.execute(
        select(SchoolRow.school_id, SchoolRow.name).where(SchoolRow.school_id.in_(school_ids))
    )
    return {school: name for school, name in rows}
