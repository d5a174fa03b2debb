"""The enrolment API's request and answer bodies (JSON)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from iris.api_models import Body
from iris.contracts import IsoDate
from iris.insz import INSZ, InstitutionNumber


class EnrolmentIn(Body):
    pupil_id: INSZ
    school_id: InstitutionNumber
    start_date: IsoDate
    end_date: IsoDate | None = None
    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    combination: bool = Field(
        False,
        description="the pupil stays enrolled at another school too (a combination, e.g. "
        "mainstream with special education); otherwise the pupil's other enrolments end the "
        "day before start_date",
    )


class EnrolmentEndIn(Body):
    pupil_id: INSZ
    school_id: InstitutionNumber
    end_date: IsoDate


class EnrolmentOut(BaseModel):
    pupil_id: str
    school_id: str
    start_date: date
    end_date: date | None
    display_name: str | None
    version: int
    combination: bool = False
    ended_by_school_change: bool = Field(
        False, description="the register ended it when the pupil was registered at another school"
    )
    changed: bool = Field(description="false when the submission repeated known facts")
