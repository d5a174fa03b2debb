"""Clients registered by an operator rather than by a school: the platform's own services
(the viewer), which exchange a client id and secret for a short-lived token for an internal
API (audience `IRIS_INTERNAL_AUDIENCE`, claim `service`), and support networks' software
(DIPLOM and the like), whose tokens carry the `support_network` claim (audience `iris`)
and may file access requests at schools and handle that network's support requests,
nothing else. Operators register and revoke them with `iris clients`; support-network
clients also through the admin API (services/access/routes/network_clients.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.access.models import ServiceClientRow
from services.access.secrets import new_credentials, verify_secret

# the services that call an internal API of another one
SERVICES_WITH_CLIENTS = ("viewer",)
# the `service` of a support network's client
SUPPORT_NETWORK = "support-network"


def network_name(value: str) -> str:
    """A support network's name as schools address it (1 to 200 characters, no control ones)."""
    name = value.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise ValueError("support_network: 1 to 200 characters")
    return name


def register(
    session: Session, service: str, support_network: str | None = None
) -> tuple[ServiceClientRow, str]:
    """A new client for `service` (or for the support network) and its secret, returned
    here once and never stored."""
    if support_network is not None:
        service, support_network = SUPPORT_NETWORK, network_name(support_network)
    elif service not in SERVICES_WITH_CLIENTS:
        raise ValueError(f"service: one of {', '.join(SERVICES_WITH_CLIENTS)}, not {service!r}")
    secret, credentials = new_credentials()
    row = ServiceClientRow(
        **credentials,
        service=service,
        support_network=support_network,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row, secret


def revoke(
    session: Session, client_id: str, support_network: str | None = None
) -> ServiceClientRow:
    row = session.get(ServiceClientRow, client_id, with_for_update=True)
    if row is None or (support_network is not None and row.support_network != support_network):
        raise LookupError(f"no such client {client_id!r}")
    if row.status != "revoked":
        row.status, row.revoked_at = "revoked", datetime.now(UTC)
        session.flush()
    return row


def listed(session: Session, support_network: str | None = None) -> list[ServiceClientRow]:
    query = select(ServiceClientRow).order_by(ServiceClientRow.created_at)
    if support_network is not None:
        query = query.where(ServiceClientRow.support_network == support_network)
    return list(session.scalars(query))


def authenticate(session: Session, client_id: str, secret: str) -> ServiceClientRow | None:
    """The active service client whose secret this is, else None."""
    row = session.get(ServiceClientRow, client_id)
    if row is None or not verify_secret(secret, row.secret_hash) or row.status != "active":
        return None
    return row


def token_claims(row: ServiceClientRow) -> tuple[str, bool, dict[str, Any]]:
    """What a client's token says: its subject, whether it is for the internal audience,
    and its claims."""
    if row.support_network is not None:
        return (
            f"network:{row.support_network}",
            False,
            {
                "support_network": row.support_network,
                "client_id": row.client_id,
            },
        )
    return f"service:{row.service}", True, {"service": row.service, "client_id": row.client_id}


def command(
    action: str, service: str, client_id: str | None, url: str, support_network: str | None = None
) -> int:
    """`iris clients add|list|revoke` on the access database at `url`."""
    from iris.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            if action == "add":
                row, secret = register(session, service, support_network)
                if support_network is not None:
                    # shown once: the network's software exchanges them at POST /v1/token
                    print(f"client_id={row.client_id}")
                    print(f"client_secret={secret}")
                else:
                    # the variables the viewer reads (or files of these names in its secrets
                    # folder)
                    print(f"IRIS_SERVICE_CLIENT_ID={row.client_id}")
                    print(f"IRIS_SERVICE_CLIENT_SECRET={secret}")
            elif action == "revoke":
                assert client_id
                row = revoke(session, client_id)
                print(f"{row.client_id} ({row.support_network or row.service}): {row.status}")
            else:
                for row in listed(session, support_network):
                    who = row.service + (f":{row.support_network}" if row.support_network else "")
                    print(f"{row.client_id}\t{who}\t{row.status}\t{row.created_at:%F}")
    finally:
        engine.dispose()
    return 0
