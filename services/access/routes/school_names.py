"""The names of schools, from the register of schools, for the viewer's pages: they speak
of a school by its name, the institution number beside it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from iris.insz import InstitutionNumber
from iris.web import DbSession
from services.access.deps import ViewerService
from services.access.schools import names_of

router = APIRouter(tags=["schools"])


class SchoolNames(BaseModel):
    names: dict[str, str]


@router.get("/internal/school-names", response_model=SchoolNames, include_in_schema=False)
def read_school_names(
    _viewer: ViewerService,
    session: DbSession,
    school_id: Annotated[list[InstitutionNumber], Query(max_length=100)],
) -> SchoolNames:
    """For the viewer: the register's name of each school asked for that it knows."""
    return SchoolNames(names=names_of(session, school_id))
