"""SCIM 2.0 for a school's user management (*gebruikersbeheer*): `/scim/v2/Users`,
`/scim/v2/Groups` and the discovery endpoints. scim2-server speaks the protocol (parsing,
filters, PATCH, ETags, errors); this route hands it each request with the client's
storage (`services.access.scim_storage`), in one transaction.

Only a user management's own token (`iris clients add --scim`, then POST /v1/token) is
accepted here, and that token is accepted nowhere else: its audience is `SCIM_AUDIENCE`."""

from __future__ import annotations

import asyncio
import json
from functools import cache

import jwt
from fastapi import APIRouter, Request, Response
from scim2_models import UnauthorizedException
from scim2_server.applications.base import BaseApplication
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation
from scim2_server.service import ScimService
from sqlalchemy.orm import Session

from services.access.bootstrap import AccessDeps
from services.access.deps import Deps
from services.access.models import ServiceClientRow
from services.access.scim_provider import provider
from services.access.scim_storage import SqlScimStorage
from services.access.service_clients import SCIM, SCIM_AUDIENCE

router = APIRouter(tags=["SCIM (user management)"])
PREFIX = "/scim/v2"


@cache
def application() -> BaseApplication:
    """The protocol's service, with scim2-server's error and header handling."""
    return BaseApplication(provider(), ScimService(provider()))


def scim_client(deps: AccessDeps, request: ScimRequest) -> ServiceClientRow:
    """The active user-management client whose token the request carries, else 401."""
    scheme, _, token = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not deps.settings.client_issuer:
        raise UnauthorizedException(detail="Authorization: a bearer token from POST /v1/token")
    try:
        claims = jwt.decode(
            token.strip(),
            deps.signing_key.public_key(),
            algorithms=["RS256"],
            audience=SCIM_AUDIENCE,
            issuer=deps.settings.client_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
            leeway=deps.settings.token_leeway_seconds,
        )
    except jwt.PyJWTError as exc:
        raise UnauthorizedException(
            detail="Authorization: not a token of a user management's client"
        ) from exc
    with deps.sessions() as session:
        row = session.get(ServiceClientRow, str(claims.get("client_id")))
    if row is None or row.service != SCIM or row.status != "active":
        raise UnauthorizedException(detail="Authorization: this client is revoked")
    return row


def handled(deps: AccessDeps, request: ScimRequest) -> ScimResponse:
    """The request served: the service provider configuration to anyone, everything else
    to a user management's client, on its directory and schools, in one transaction."""
    app = application()
    if app.service.match(request).operation is Operation.service_provider_config:
        return ScimHandler(app.service, SqlScimStorage.unused()).handle(request)
    client = scim_client(deps, request)
    today = deps.today()

    def serve(session: Session) -> ScimResponse:
        storage = SqlScimStorage.of_client(session, client, today)
        return ScimHandler(app.service, storage).handle(request)

    return deps.store.write(serve)


def answer(deps: AccessDeps, request: ScimRequest) -> ScimResponse:
    app = application()
    try:
        response = handled(deps, request)
    except Exception as exc:  # scim2-server turns every failure into a SCIM error
        response = app.handle_exception(request, exc)
    return app.finalize_response(request, response)


@router.api_route(
    PREFIX + "/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def scim(request: Request, path: str, deps: Deps) -> Response:
    scim_request = ScimRequest(
        method=request.method,
        base_url=str(request.base_url).rstrip("/") + PREFIX,
        path="/" + path,
        query=dict(request.query_params),
        headers=list(request.headers.items()),
        body=await request.body(),
    )
    response = await asyncio.to_thread(answer, deps, scim_request)
    body = b"" if response.body is None else json.dumps(response.body).encode()
    return Response(body, status_code=int(response.status), headers=response.headers)
