"""The reports API's request and answer bodies (JSON)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from iris.api_models import Body
from iris.contracts import IsoDate
from iris.insz import InstitutionNumber
from services.reports import domain


def _section(text: str) -> str:
    problem = domain.section_problem(text)
    if problem:
        raise ValueError(problem)
    return text


def _type_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Section = Annotated[
    str,
    AfterValidator(_section),
    Field(
        description=f"plain text, at most {domain.SECTION_MAX_CHARS} characters",
        json_schema_extra={"maxLength": domain.SECTION_MAX_CHARS},
    ),
]


class ContentIn(Body):
    needs: Section = Field(description="the pupil's educational needs")
    advice: Section = Field(description="the advice to the school")
    measures_taken: Section = Field(description="measures already taken and why they fall short")
    reasoning: Section = Field(description="the reasoning behind the report")


class ReportIn(Body):
    kind: domain.Kind = Field(description="IAC, OV4, GC (since 2023) or the legacy V, GV")
    clb_id: InstitutionNumber = Field(description="instellingsnummer of the issuing CLB")
    valid_from: IsoDate = Field(description="ingangsdatum: the report takes effect on this day")
    type: Annotated[domain.BoType | None, BeforeValidator(_type_as_text)] = Field(
        default=None,
        description="buitengewoon-onderwijs type; required for V, IAC and OV4. "
        "Not basisaanbod in nursery; in secondary, as organised per opleidingsvorm "
        "(basisaanbod: 3; type 2: 1 and 2; types 3, 4, 6, 7, 9: all)",
    )
    opleidingsvorm: Annotated[int, Field(ge=1, le=4)] | None = Field(
        default=None,
        description="secondary only; required in secondary for V and IAC (1-3), "
        "OV4 reports have 4; never for GC or GV",
    )
    level: domain.Level | None = Field(
        default=None,
        description="the pupil's level of education: nursery, primary or secondary. "
        "Optional; an opleidingsvorm or kind OV4 implies secondary. The rules that depend "
        "on the level (no basisaanbod in nursery, opleidingsvorm only in secondary) apply "
        "when it is known.",
    )
    content: ContentIn


class VersionOut(BaseModel):
    """What every answer says of a version."""

    report_id: uuid.UUID
    pupil_id: str
    version: int
    kind: str
    clb_id: str
    valid_from: date
    issued_at: datetime
    type: str | None
    opleidingsvorm: int | None
    level: str | None


class ReportOut(VersionOut):
    """A version's metadata: never its content."""

    withdrawn: bool
    withdrawn_at: datetime | None
    withdrawn_on: date | None
    status: domain.Status = Field(
        description="current; scheduled (valid_from still ahead); superseded; withdrawn"
    )
    current: bool = Field(description="true for the one version that is the current report")


class WithdrawalOut(ReportOut):
    changed: bool = Field(description="false when the report had been withdrawn already")


class ContentOut(BaseModel):
    needs: str
    advice: str
    measures_taken: str
    reasoning: str


class InternalReportOut(VersionOut):
    """The current report with its content, for the viewer's rendering only."""

    content: ContentOut
