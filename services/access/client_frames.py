"""The origins whose pages may frame the viewer's `/embed` pages, kept per school-software
client: the school responsible names them; the viewer asks for a school's origins on its
internal route and uses them as the `frame-ancestors` of that school's frames."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from iris.api_models import Body
from iris.auth import Principal, TokenVerifier
from iris.web import CurrentPrincipal, DbSession, bearer_principal
from services.access import service
from services.access.deps import ClientId, SchoolId
from services.access.models import ClientRow
from services.access.repository import SqlAccessRepository

router = APIRouter(tags=["school-software clients"])

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
DEFAULT_PORTS = {"https": 443, "http": 80}


def normal_origin(value: str) -> str:
    """`scheme://host[:port]` in lower case, without path or default port; https, or http on
    a loopback host (development)."""
    parts = urlsplit(value.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("an origin is https://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("an origin has no path, query, fragment or user")
    host = parts.netloc.rsplit("@", 1)[-1].lower()
    if ":" in host and not host.endswith("]"):
        host = host.rsplit(":", 1)[0]
    if parts.scheme == "http" and host not in LOOPBACK:
        raise ValueError("an origin outside this machine must be https")
    port = parts.port
    suffix = "" if port in (None, DEFAULT_PORTS[parts.scheme]) else f":{port}"
    return f"{parts.scheme}://{host}{suffix}"


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


def origins_of(row: ClientRow) -> list[str]:
    return list(json.loads(row.frame_origins)) if row.frame_origins else []


def set_frame_origins(
    session: Session, school_id: str, client_id: str, origins: list[str], actor: str
) -> ClientRow:
    repo = SqlAccessRepository(session)
    row = service.client_row(repo, school_id, client_id, lock=True)
    before = origins_of(row)
    after = sorted(set(origins))
    if before != after:
        row.frame_origins = json.dumps(after) if after else None
        service.audit(
            repo,
            school_id,
            actor,
            "client.frame_origins",
            client_id,
            None,
            {"frame_origins": before},
            {"frame_origins": after},
        )
        session.flush()
    return row


def school_frame_origins(session: Session, school_id: str) -> list[str]:
    """The origins of the school's active clients together."""
    rows = session.scalars(
        select(ClientRow).where(ClientRow.school_id == school_id, ClientRow.status == "active")
    )
    return sorted({origin for row in rows for origin in origins_of(row)})


def _responsible(principal: Principal, school_id: str) -> str:
    if not principal.is_person or school_id not in principal.school_admin_of:
        raise HTTPException(403, "school_id: you are not the responsible of this school")
    return principal.subject


def internal_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.internal_verifier
    return verifier


async def viewer_service(
    principal: Annotated[Principal, Depends(bearer_principal(internal_verifier))],
) -> Principal:
    """The viewer's service identity (token for the internal audience), else 403."""
    if principal.service != "viewer":
        raise HTTPException(403, "authorization: only the viewer's service identity")
    return principal


ViewerService = Annotated[Principal, Depends(viewer_service)]


@router.put(
    "/v1/schools/{school_id}/clients/{client_id}/frame-origins", response_model=FrameOriginsOut
)
def put_frame_origins(
    request: Request,
    school_id: SchoolId,
    client_id: ClientId,
    body: FrameOriginsIn,
    principal: CurrentPrincipal,
) -> FrameOriginsOut:
    """Name the origins whose pages may frame the report for this client (replaces them)."""
    actor = _responsible(principal, school_id)
    store = request.app.state.access.store
    row = store.write(
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
    session: DbSession,
) -> FrameOriginsOut:
    """The origins that may frame the report for this client."""
    _responsible(principal, school_id)
    row = service.client_row(SqlAccessRepository(session), school_id, client_id)
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
