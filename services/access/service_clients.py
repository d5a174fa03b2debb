"""Clients registered by an operator rather than by a school: the platform's own services
(the viewer), which exchange a client id and secret for a short-lived token for an internal
API (audience `IRIS_INTERNAL_AUDIENCE`, claim `service`), and support networks' software
(DIPLOM and the like), whose tokens carry the `support_network` claim (audience `iris`)
and may file access requests at schools and handle that network's support requests,
nothing else; and a school's user management (*gebruikersbeheer*), whose tokens (audience
`SCIM_AUDIENCE`) are good for the SCIM endpoint `/scim/v2` alone, for the users and groups
of its directory and the schools it is registered for. Operators register and revoke them
with `iris clients`; support-network clients also through the admin API
(services/access/routes/network_clients.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.access.models import ServiceClientRow
from services.access.secrets import new_credentials, verify_secret

# the services that call an internal API of another one
SERVICES_WITH_CLIENTS = ("viewer",)
# the `service` of a support network's client
SUPPORT_NETWORK = "support-network"
# the `service` of a school's user management, and the audience of its tokens: no other
# route of any service accepts them
SCIM = "scim"
SCIM_AUDIENCE = "iris-scim"
Audience = Literal["public", "internal", "scim"]


def network_name(value: str) -> str:
    """A support network's name as schools address it (1 to 200 characters, no control ones)."""
    name = value.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise ValueError("support_network: 1 to 200 characters")
    return name


def scim_scope(directory: str, schools: list[str]) -> tuple[str, str]:
    """A user management's directory name and the JSON list of its schools."""
    name = directory.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise ValueError("scim: a directory name of 1 to 200 characters")
    if not schools or any(not (s.isdigit() and len(s) == 6) for s in schools):
        raise ValueError("school: name each school the user management serves (6 digits)")
    return name, json.dumps(sorted(set(schools)))


def register(
    session: Session,
    service: str,
    support_network: str | None = None,
    scim: tuple[str, list[str]] | None = None,
) -> tuple[ServiceClientRow, str]:
    """A new client for `service` (or for the support network, or a user management of
    `scim` = (directory, schools)) and its secret, returned here once and never stored."""
    directory = schools = None
    if support_network is not None:
        service, support_network = SUPPORT_NETWORK, network_name(support_network)
    elif scim is not None:
        service, (directory, schools) = SCIM, scim_scope(*scim)
    elif service not in SERVICES_WITH_CLIENTS:
        raise ValueError(f"service: one of {', '.join(SERVICES_WITH_CLIENTS)}, not {service!r}")
    secret, credentials = new_credentials()
    row = ServiceClientRow(
        **credentials,
        service=service,
        support_network=support_network,
        directory=directory,
        schools=schools,
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


def token_claims(row: ServiceClientRow) -> tuple[str, Audience, dict[str, Any]]:
    """What a client's token says: its subject, its audience (the public, internal or SCIM
    one), and its claims."""
    if row.support_network is not None:
        return (
            f"network:{row.support_network}",
            "public",
            {
                "support_network": row.support_network,
                "client_id": row.client_id,
            },
        )
    if row.service == SCIM:
        return f"scim:{row.client_id}", "scim", {"service": SCIM, "client_id": row.client_id}
    return (
        f"service:{row.service}",
        "internal",
        {"service": row.service, "client_id": row.client_id},
    )


def command(
    action: str,
    service: str,
    client_id: str | None,
    url: str,
    support_network: str | None = None,
    scim: tuple[str, list[str]] | None = None,
) -> int:
    """`iris clients add|list|revoke` on the access database at `url`."""
    from iris.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            if action == "add":
                row, secret = register(session, service, support_network, scim)
                if support_network is not None or scim is not None:
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
                    name = row.support_network or row.directory
                    who = row.service + (f":{name}" if name else "")
                    print(f"{row.client_id}\t{who}\t{row.status}\t{row.created_at:%F}")
    finally:
        engine.dispose()
    return 0
