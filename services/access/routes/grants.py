"""A school's responsible grants, changes, revokes and lists the access of people."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field, field_validator

from iris.api_models import Body, FromRow
from iris.contracts import IsoDate
from iris.insz import INSZ
from iris.web import CurrentPrincipal
from services.access import domain, service
from services.access.deps import ActingResponsible, Deps, Repository, SchoolId, responsible_at

router = APIRouter(tags=["grants"])


class GrantIn(Body):
    person_id: INSZ
    role: domain.Role
    valid_from: IsoDate
    valid_until: IsoDate | None = Field(
        None, description="support_worker: at most (and by default) 4 years after valid_from"
    )
    pupil_ids: list[INSZ] | None = Field(
        None, max_length=2000, description="limit the grant to these pupils; null: whole school"
    )
    person_name: str | None = Field(
        None,
        max_length=200,
        description="the person's name, kept with the grant and shown instead of the INSZ; "
        "null: keep the name known",
    )

    @field_validator("person_name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return (" ".join(value.split()) or None) if isinstance(value, str) else value


class GrantOut(FromRow):
    grant_id: str
    school_id: str
    person_id: str
    role: str
    pupil_ids: list[str] | None
    valid_from: date
    valid_until: date
    status: str
    version: int
    source: str = Field(
        description="iris: made in IRIS's pages or API; scim: kept by the school's user "
        "management, shown here but changed only there"
    )
    changed: bool = Field(
        False, description="false when the request repeated the grant as it stood"
    )

    @field_validator("grant_id", mode="before")
    @classmethod
    def _grant_id(cls, value: Any) -> str:
        return str(value)


def grant_out(grant: domain.Grant, changed: bool = False) -> GrantOut:
    return GrantOut.model_validate(grant).model_copy(update={"changed": changed})


def save_grant(
    deps: Deps,
    school_id: str,
    body: GrantIn,
    actor: str,
    intent: domain.GrantIntent = "grant",
) -> service.Outcome:
    """Grant as `body` says, today by the service's clock (the API and the pages; a page
    says whether it makes a new grant or changes one, `domain.check_intent`)."""
    today = deps.today()
    return deps.write(
        lambda repo: service.grant(
            repo,
            school_id,
            body.person_id,
            body.role,
            body.valid_from,
            body.valid_until,
            body.pupil_ids,
            actor,
            today,
            intent,
            person_name=body.person_name,
        )
    )


@router.post("/v1/schools/{school_id}/grants", response_model=GrantOut)
def grant_access(
    school_id: SchoolId, body: GrantIn, principal: CurrentPrincipal, deps: Deps
) -> GrantOut:
    """Grant a person access at the school, or change the grant they hold."""
    outcome = save_grant(deps, school_id, body, responsible_at(principal, school_id))
    return grant_out(outcome.grant, outcome.changed)


@router.post("/v1/schools/{school_id}/grants/{grant_id}/revoke", response_model=GrantOut)
def revoke_grant(
    school_id: SchoolId, grant_id: str, actor: ActingResponsible, deps: Deps
) -> GrantOut:
    """Revoke a grant at once; revoking a grant that gives no access changes nothing."""
    outcome = deps.write(lambda repo: service.revoke(repo, school_id, grant_id, actor))
    return grant_out(outcome.grant, outcome.changed)


@router.get("/v1/schools/{school_id}/grants", response_model=list[GrantOut])
def list_grants(
    school_id: SchoolId,
    principal: CurrentPrincipal,
    repo: Repository,
    role: Annotated[domain.Role | None, Query()] = None,
    status: Annotated[domain.Status | None, Query()] = None,
) -> list[GrantOut]:
    """The grants at the school, by role and status if asked."""
    responsible_at(principal, school_id)
    return [grant_out(g) for g in service.grants_at(repo, school_id, role, status)]


@router.get("/v1/schools/{school_id}/grants/{grant_id}", response_model=GrantOut)
def read_grant(
    school_id: SchoolId, grant_id: str, principal: CurrentPrincipal, repo: Repository
) -> GrantOut:
    """One grant at the school."""
    responsible_at(principal, school_id)
    return grant_out(service.grant_at(repo, school_id, grant_id))
