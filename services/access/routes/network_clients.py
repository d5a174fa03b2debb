"""Support networks' software as clients, registered over HTTP by a platform admin (a
person named in `IRIS_PLATFORM_ADMINS`) as operators do with `iris clients add
--support-network N`. The secret is shown once; revoking stops new tokens at once (a token
already issued lives out its few minutes). The code is the service clients' own
(services/access/service_clients.py)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from iris.auth import Principal
from iris.web import CurrentPrincipal, DbSession
from services.access import service_clients
from services.access.bootstrap import AccessDeps
from services.access.deps import ClientId, Deps
from services.access.models import ServiceClientRow

log = logging.getLogger(__name__)
router = APIRouter(tags=["support-network clients"])

Network = Annotated[str, Path(min_length=1, max_length=200)]


class NetworkClientOut(BaseModel):
    client_id: str
    support_network: str
    status: str
    created_at: datetime
    revoked_at: datetime | None


class NewNetworkClientOut(NetworkClientOut):
    client_secret: str = Field(description="shown once; only a hash of it is kept")


def client_out(row: ServiceClientRow) -> NetworkClientOut:
    return NetworkClientOut(
        client_id=row.client_id,
        support_network=row.support_network or "",
        status=row.status,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def platform_admin(deps: AccessDeps, principal: Principal) -> str:
    if not principal.is_person or principal.subject not in deps.settings.platform_admins:
        raise HTTPException(403, "only a platform admin registers support networks' clients")
    return principal.subject


@router.post(
    "/v1/support-networks/{network}/clients", response_model=NewNetworkClientOut, status_code=201
)
def register_network_client(
    network: Network, principal: CurrentPrincipal, deps: Deps
) -> NewNetworkClientOut:
    """Register a support network's software; its secret is shown in this answer only."""
    actor = platform_admin(deps, principal)
    try:
        row, secret = deps.store.write(
            lambda s: service_clients.register(s, service_clients.SUPPORT_NETWORK, network)
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    log.info("support-network client registered", extra={"client_id": row.client_id, "by": actor})
    return NewNetworkClientOut(**client_out(row).model_dump(), client_secret=secret)


@router.get("/v1/support-networks/{network}/clients", response_model=list[NetworkClientOut])
def list_network_clients(
    network: Network, principal: CurrentPrincipal, session: DbSession, deps: Deps
) -> list[NetworkClientOut]:
    """The network's clients (never their secrets)."""
    platform_admin(deps, principal)
    return [client_out(r) for r in service_clients.listed(session, network)]


@router.post(
    "/v1/support-networks/{network}/clients/{client_id}/revoke", response_model=NetworkClientOut
)
def revoke_network_client(
    network: Network,
    client_id: ClientId,
    principal: CurrentPrincipal,
    deps: Deps,
) -> NetworkClientOut:
    """Revoke a network's client: its secret buys no more tokens."""
    actor = platform_admin(deps, principal)
    try:
        row = deps.store.write(lambda s: service_clients.revoke(s, client_id, network))
    except LookupError as exc:
        raise HTTPException(404, "client_id: no such client of this network") from exc
    log.info("support-network client revoked", extra={"client_id": client_id, "by": actor})
    return client_out(row)
