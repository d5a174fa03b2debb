"""Service clients: the platform's own services (the viewer) exchange a client id and secret
for a short-lived token for an internal API (audience `IRIS_INTERNAL_AUDIENCE`, claim
`service`). Operators register and revoke them with `iris clients`; no HTTP route does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.access.models import ServiceClientRow
from services.access.secrets import hash_secret, new_client_id, new_secret, verify_secret

# the services that call an internal API of another one
SERVICES_WITH_CLIENTS = ("viewer",)


def register(session: Session, service: str) -> tuple[ServiceClientRow, str]:
    """A new client for `service` and its secret, returned here once and never stored."""
    if service not in SERVICES_WITH_CLIENTS:
        raise ValueError(f"service: one of {', '.join(SERVICES_WITH_CLIENTS)}, not {service!r}")
    secret = new_secret()
    row = ServiceClientRow(
        client_id=new_client_id(),
        service=service,
        secret_hash=hash_secret(secret),
        status="active",
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row, secret


def revoke(session: Session, client_id: str) -> ServiceClientRow:
    row = session.get(ServiceClientRow, client_id, with_for_update=True)
    if row is None:
        raise LookupError(f"no service client {client_id!r}")
    if row.status != "revoked":
        row.status, row.revoked_at = "revoked", datetime.now(UTC)
        session.flush()
    return row


def listed(session: Session) -> list[ServiceClientRow]:
    query = select(ServiceClientRow).order_by(ServiceClientRow.created_at)
    return list(session.scalars(query))


def authenticate(session: Session, client_id: str, secret: str) -> ServiceClientRow | None:
    """The active service client whose secret this is, else None."""
    row = session.get(ServiceClientRow, client_id)
    if row is None or not verify_secret(secret, row.secret_hash) or row.status != "active":
        return None
    return row


def command(action: str, service: str, client_id: str | None, url: str) -> int:
    """`iris clients add|list|revoke` on the access database at `url`."""
    from iris.db import make_engine, make_sessionmaker, transaction

    engine = make_engine(url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            if action == "add":
                row, secret = register(session, service)
                # the variables the viewer reads (or files of these names in its secrets folder)
                print(f"IRIS_SERVICE_CLIENT_ID={row.client_id}")
                print(f"IRIS_SERVICE_CLIENT_SECRET={secret}")
            elif action == "revoke":
                assert client_id
                row = revoke(session, client_id)
                print(f"{row.client_id} ({row.service}): {row.status}")
            else:
                for row in listed(session):
                    print(f"{row.client_id}\t{row.service}\t{row.status}\t{row.created_at:%F}")
    finally:
        engine.dispose()
    return 0
