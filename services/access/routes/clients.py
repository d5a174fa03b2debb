"""School software: the school's responsible registers a client (its secret shown once)
and revokes it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from iris.api_models import Body, FromRow
from iris.web import CurrentPrincipal
from services.access import service
from services.access.deps import ActingResponsible, Deps, Repository, SchoolId, responsible_at

router = APIRouter(tags=["school software"])


class ClientIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]


class ClientOut(FromRow):
    client_id: str
    school_id: str
    name: str
    status: str
    created_at: datetime
    revoked_at: datetime | None


class NewClientOut(ClientOut):
    client_secret: str = Field(description="shown once; only a hash of it is kept")


@router.post("/v1/schools/{school_id}/clients", response_model=NewClientOut, status_code=201)
def register_client(
    school_id: SchoolId, body: ClientIn, principal: CurrentPrincipal, deps: Deps
) -> NewClientOut:
    """Register school software; its secret is shown in this answer only."""
    actor = responsible_at(principal, school_id)
    row, secret = deps.write(
        lambda repo: service.register_client(repo, school_id, body.name, actor)
    )
    return NewClientOut(**ClientOut.model_validate(row).model_dump(), client_secret=secret)


@router.get("/v1/schools/{school_id}/clients", response_model=list[ClientOut])
def list_clients(
    school_id: SchoolId, principal: CurrentPrincipal, repo: Repository
) -> list[ClientOut]:
    """The school's software clients (never their secrets)."""
    responsible_at(principal, school_id)
    return [ClientOut.model_validate(r) for r in service.clients_at(repo, school_id)]


@router.post("/v1/schools/{school_id}/clients/{client_id}/revoke", response_model=ClientOut)
def revoke_client(
    school_id: SchoolId, client_id: str, actor: ActingResponsible, deps: Deps
) -> ClientOut:
    """Revoke a client: its secret buys no more tokens."""
    row = deps.write(lambda repo: service.revoke_client(repo, school_id, client_id, actor))
    return ClientOut.model_validate(row)
