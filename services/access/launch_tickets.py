"""Launch tickets: school software asks, server to server with its client token, for a
short-lived single-use ticket for one pupil of its school and opens the viewer's frame at
`/embed/launch?ticket=…`, so that the frame's URL holds no INSZ. The viewer redeems the
ticket on an internal route; the person in the frame still signs in as themselves and
is checked as on every view. The routes are in routes/launch_tickets.py."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from services.access.models import ClientRow, LaunchTicketRow


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue(session: Session, school_id: str, pupil_id: str, client_id: str, ttl: int) -> str:
    ticket = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        LaunchTicketRow(
            ticket_hash=ticket_hash(ticket),
            school_id=school_id,
            pupil_id=pupil_id,
            client_id=client_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    session.flush()
    return ticket


def redeem(session: Session, ticket: str) -> LaunchTicketRow | None:
    """The ticket's launch, marked used; None when unknown, used, expired or its client
    revoked (one answer for all: a ticket is worth nothing twice)."""
    now = datetime.now(UTC)
    key = ticket_hash(ticket)
    used = session.execute(
        update(LaunchTicketRow)
        .where(
            LaunchTicketRow.ticket_hash == key,
            LaunchTicketRow.used_at.is_(None),
            LaunchTicketRow.expires_at > now,
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get(LaunchTicketRow, key)
    client = session.get(ClientRow, row.client_id) if row is not None else None
    if row is None or client is None or client.status != "active":
        return None
    return row
