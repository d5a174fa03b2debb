"""The viewer reads the content of a pupil's current report, and nothing else."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from services.reports import domain, service
from services.reports.deps import Deps, ServicePrincipal
from services.reports.schemas import InternalReportOut

router = APIRouter()


@router.get(
    "/internal/reports/{report_id}",
    response_model=InternalReportOut,
    responses={404: {"description": "unknown, or not the pupil's current report now"}},
)
def read_current_report(
    report_id: Annotated[uuid.UUID, Path()], principal: ServicePrincipal, deps: Deps
) -> JSONResponse:
    """The content of a report, only while it is the pupil's current report (viewer only)."""
    if principal.service != "viewer":
        raise domain.ReportRuleBroken(
            "authorization", "only the viewer's service identity may read content", 403
        )
    found = deps.read(lambda repo: service.current_content(repo, report_id, deps.clock()))
    if found is None:
        raise domain.ReportRuleBroken(
            "report_id", "this report is not the pupil's current report", 404
        )
    now, content = found
    answer = InternalReportOut.model_validate({**vars(now), "content": vars(content)})
    return JSONResponse(
        answer.model_dump(mode="json"),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
