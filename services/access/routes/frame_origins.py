"""The origins whose pages may frame the viewer's `/embed` pages, per school-software
client: the school responsible names them; the viewer reads a school's origins on its
internal route (services/access/client_frames.py keeps them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, Field

from iris.api_models import Body
from iris.web import CurrentPrincipal, DbSession
from services.access import service
from services.access.client_frames import (
    normal_origin,
    origins_of,
    school_frame_origins,
    set_frame_origins,
)
from services.access.deps import (
    ClientId,
    Deps,
    Repository,
    SchoolId,
    ViewerService,
    responsible_at,
)

router = APIRouter(tags=["school-software clients"])

Origin = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(normal_origin)]


class FrameOriginsIn(Body):
    frame_origins: list[Origin] = Field(max_length=20)


class FrameOriginsOut(BaseModel):
    client_id: str
    school_id: str
    frame_origins: list[str]


class SchoolFrameOrigins(BaseModel):
    school_id: str
    frame_origins: list[str]


@router.put(
    "/v1/schools/{school_id}/clients/{client_id}/frame-origins", response_model=FrameOriginsOut
)
def put_frame_origins(
    school_id: SchoolId,
    client_id: ClientId,
    body: FrameOriginsIn,
    principal: CurrentPrincipal,
    deps: Deps,
) -> FrameOriginsOut:
    """Name the origins whose pages may frame the report for this client (replaces them)."""
    actor = responsible_at(principal, school_id)
    row = deps.store.write(
        lambda s: set_frame_origins(s, school_id, client_id, body.frame_origins, actor)
    )
    return FrameOriginsOut(
        client_id=row.client_id, school_id=school_id, frame_origins=origins_of(row)
    )


@router.get(
    "/v1/schools/{school_id}/clients/{client_id}/frame-origins", response_model=FrameOriginsOut
)
def get_frame_origins(
    school_id: SchoolId,
    client_id: ClientId,
    principal: CurrentPrincipal,
    repo: Repository,
) -> FrameOriginsOut:
    """The origins that may frame the report for this client."""
    responsible_at(principal, school_id)
    row = service.client_row(repo, school_id, client_id)
    return FrameOriginsOut(
        client_id=row.client_id, school_id=school_id, frame_origins=origins_of(row)
    )


@router.get(
    "/internal/schools/{school_id}/frame-origins",
    response_model=SchoolFrameOrigins,
    include_in_schema=False,
)
def read_school_frame_origins(
    school_id: SchoolId, _viewer: ViewerService, session: DbSession
) -> SchoolFrameOrigins:
    """For the viewer: the origins that may frame the school's `/embed` pages."""
    return SchoolFrameOrigins(
        school_id=school_id, frame_origins=school_frame_origins(session, school_id)
    )
