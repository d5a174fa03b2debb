"""Access requests: a support network asks access for a support worker, the school's
responsible approves (a grant) or rejects (with a reason)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import Field, field_validator

from iris.api_models import Body, FromRow
from iris.auth import Principal
from iris.contracts import IsoDate
from iris.insz import INSZ
from iris.web import CurrentPrincipal
from services.access import service
from services.access.deps import Deps, Repository, SchoolId, responsible_at
from services.access.models import AccessRequestRow
from services.access.routes.grants import GrantOut, grant_out

router = APIRouter(tags=["access requests"])

RequestStatus = Literal["pending", "approved", "rejected"]


class AccessRequestIn(Body):
    person_id: INSZ
    pupil_ids: list[INSZ] = Field(min_length=1, max_length=500)
    support_network: Annotated[str, Field(min_length=1, max_length=200)]
    motivation: Annotated[str, Field(min_length=1, max_length=4000)]
    person_name: str | None = Field(
        None, max_length=200, description="the support worker's name, shown to the school"
    )

    @field_validator("person_name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return (" ".join(value.split()) or None) if isinstance(value, str) else value


class ApproveIn(Body):
    valid_until: IsoDate | None = Field(
        None, description="end the grant sooner than 4 years after it starts"
    )


class RejectIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class AccessRequestOut(FromRow):
    request_id: str
    school_id: str
    support_network: str
    person_id: str
    person_name: str | None = None
    pupil_ids: list[str]
    motivation: str
    status: str
    reason: str | None
    grant_id: str | None
    created_at: datetime
    decided_at: datetime | None
    grant: GrantOut | None = None

    @field_validator("pupil_ids", mode="before")
    @classmethod
    def _pupils(cls, value: Any) -> Any:
        """The table keeps the pupils as JSON text."""
        return json.loads(value) if isinstance(value, str) else value


def request_out(row: AccessRequestRow, grant: GrantOut | None = None) -> AccessRequestOut:
    return AccessRequestOut.model_validate(row).model_copy(update={"grant": grant})


def network_of(principal: Principal) -> str:
    if principal.support_network is None:
        raise HTTPException(403, "only a support network may file access requests")
    return principal.support_network


@router.post(
    "/v1/schools/{school_id}/access-requests",
    response_model=AccessRequestOut,
    status_code=201,
)
def file_access_request(
    school_id: SchoolId, body: AccessRequestIn, principal: CurrentPrincipal, deps: Deps
) -> AccessRequestOut:
    """A support network asks access for a support worker to the pupils they support."""
    network = network_of(principal)
    if body.support_network != network:
        raise HTTPException(
            403, "support_network: a network may only file requests in its own name"
        )
    row = deps.write(
        lambda repo: service.file_request(
            repo,
            school_id,
            network,
            principal.subject,
            body.person_id,
            body.pupil_ids,
            body.motivation,
            body.person_name,
        )
    )
    return request_out(row)


@router.get("/v1/schools/{school_id}/access-requests", response_model=list[AccessRequestOut])
def list_access_requests(
    school_id: SchoolId,
    principal: CurrentPrincipal,
    repo: Repository,
    status: Annotated[RequestStatus | None, Query()] = None,
) -> list[AccessRequestOut]:
    """The school's access requests (pending ones with `?status=pending`)."""
    responsible_at(principal, school_id)
    return [request_out(r) for r in service.requests_at(repo, school_id, status)]


@router.post(
    "/v1/schools/{school_id}/access-requests/{request_id}/approve",
    response_model=AccessRequestOut,
)
def approve_access_request(
    school_id: SchoolId,
    request_id: str,
    principal: CurrentPrincipal,
    deps: Deps,
    body: ApproveIn | None = None,
) -> AccessRequestOut:
    """Approve: the support worker gets (or extends) a grant limited to these pupils."""
    actor = responsible_at(principal, school_id)
    until = body.valid_until if body is not None else None
    today = deps.today()
    row, outcome = deps.write(
        lambda repo: service.approve(repo, school_id, request_id, actor, today, until)
    )
    return request_out(row, grant_out(outcome.grant, outcome.changed))


@router.post(
    "/v1/schools/{school_id}/access-requests/{request_id}/reject",
    response_model=AccessRequestOut,
)
def reject_access_request(
    school_id: SchoolId, request_id: str, body: RejectIn, principal: CurrentPrincipal, deps: Deps
) -> AccessRequestOut:
    """Reject, with the reason the support network will read."""
    actor = responsible_at(principal, school_id)
    row = deps.write(lambda repo: service.reject(repo, school_id, request_id, body.reason, actor))
    return request_out(row)


@router.get("/v1/access-requests/{request_id}", response_model=AccessRequestOut)
def read_access_request(
    request_id: str, principal: CurrentPrincipal, repo: Repository
) -> AccessRequestOut:
    """The outcome of a request, for the network that filed it or the school's responsible."""
    row = service.request_row(repo, request_id)
    own_network = principal.support_network is not None and (
        principal.support_network == row.support_network
    )
    responsible = principal.is_person and row.school_id in principal.school_admin_of
    if not (own_network or responsible):
        raise HTTPException(403, "request_id: this access request is not yours")
    return request_out(row)
