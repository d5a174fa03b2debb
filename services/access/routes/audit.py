"""The audit trail of a school, for its responsible."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from iris.web import CurrentPrincipal
from services.access import service
from services.access.deps import Repository, SchoolId, responsible_at
from services.access.models import AuditRow

router = APIRouter(tags=["audit"])


class AuditOut(BaseModel):
    at: datetime
    actor: str
    action: str
    subject: str
    person_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def audit_out(row: AuditRow) -> AuditOut:
    return AuditOut(
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        person_id=row.person_id,
        before=json.loads(row.before) if row.before else None,
        after=json.loads(row.after) if row.after else None,
    )


@router.get("/v1/schools/{school_id}/audit", response_model=list[AuditOut])
def read_audit(
    school_id: SchoolId,
    principal: CurrentPrincipal,
    repo: Repository,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditOut]:
    """Every change at the school, newest first: who, what, when, before and after."""
    responsible_at(principal, school_id)
    return [audit_out(r) for r in service.audit_at(repo, school_id, limit)]
