"""The audit trail of a school, for its responsible."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import field_validator

from iris.api_models import FromRow
from iris.web import CurrentPrincipal
from services.access import service
from services.access.deps import Repository, SchoolId, responsible_at

router = APIRouter(tags=["audit"])


class AuditOut(FromRow):
    at: datetime
    actor: str
    action: str
    subject: str
    person_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @field_validator("before", "after", mode="before")
    @classmethod
    def _recorded(cls, value: Any) -> Any:
        """The audit table keeps both sides as JSON text."""
        return json.loads(value) if isinstance(value, str) else value


@router.get("/v1/schools/{school_id}/audit", response_model=list[AuditOut])
def read_audit(
    school_id: SchoolId,
    principal: CurrentPrincipal,
    repo: Repository,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditOut]:
    """Every change at the school, newest first: who, what, when, before and after."""
    responsible_at(principal, school_id)
    return [AuditOut.model_validate(r) for r in service.audit_at(repo, school_id, limit)]
