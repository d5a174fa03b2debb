"""Launch tickets: school software asks, server to server with its client token, for a
short-lived single-use ticket for one pupil of its school and opens the viewer's frame at
`/embed/launch?ticket=…`, so that the frame's URL holds no INSZ. The viewer redeems the
ticket on an internal route; the person in the frame still signs in as themselves and
is checked as on every view."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlalchemy.orm import Session

from iris.api_models import Body
from iris.auth import verifier_for
from iris.insz import INSZ, InstitutionNumber
from iris.settings import Settings
from iris.web import CurrentPrincipal
from services.access import client_frames, client_frames_pages, network_clients
from services.access.client_frames import ViewerService
from services.access.models import ClientRow, LaunchTicketRow

router = APIRouter(tags=["launch tickets"])

SchoolId = Annotated[InstitutionNumber, Path()]


class LaunchTicketIn(Body):
    pupil_id: INSZ


class LaunchTicketOut(BaseModel):
    ticket: str = Field(description="single use; valid for expires_in seconds")
    expires_in: int
    embed_url: str = Field(description="the viewer's frame URL with the ticket")


class RedeemIn(Body):
    ticket: Annotated[str, Field(min_length=1, max_length=200)]


class LaunchOut(BaseModel):
    pupil_id: str
    school_id: str
    client_id: str


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


@router.post(
    "/v1/schools/{school_id}/launch-tickets", response_model=LaunchTicketOut, status_code=201
)
def issue_launch_ticket(
    request: Request, school_id: SchoolId, body: LaunchTicketIn, principal: CurrentPrincipal
) -> LaunchTicketOut:
    """A single-use ticket that opens the viewer's frame on this pupil (school software)."""
    if principal.school_client_of is None:
        raise HTTPException(403, "only school software asks for launch tickets")
    if principal.school_client_of != school_id:
        raise HTTPException(403, "school_id: a client asks tickets for its own school only")
    client_id = str(principal.claims.get("client_id") or principal.subject.removeprefix("client:"))
    settings: Settings = request.app.state.access.settings
    ttl = settings.launch_ticket_ttl_seconds
    store = request.app.state.access.store
    ticket = store.write(lambda s: issue(s, school_id, body.pupil_id, client_id, ttl))
    viewer = settings.viewer_url.rstrip("/")
    return LaunchTicketOut(
        ticket=ticket, expires_in=ttl, embed_url=f"{viewer}/embed/launch?ticket={ticket}"
    )


@router.post("/internal/launch-tickets/redeem", response_model=LaunchOut, include_in_schema=False)
def redeem_launch_ticket(request: Request, body: RedeemIn, _viewer: ViewerService) -> LaunchOut:
    """For the viewer: the pupil and school a ticket opens, once."""
    store = request.app.state.access.store
    row = store.write(lambda s: redeem(s, body.ticket))
    if row is None:
        raise HTTPException(404, "ticket: unknown, used or expired")
    return LaunchOut(pupil_id=row.pupil_id, school_id=row.school_id, client_id=row.client_id)


def install_embedding(app: FastAPI, settings: Settings) -> None:
    """The access service's routes for the systems around it: frame origins and launch
    tickets (embedding), and support networks' clients."""
    app.state.internal_verifier = verifier_for(settings, settings.internal_audience)
    app.include_router(client_frames.router)
    app.include_router(client_frames_pages.router)
    app.include_router(router)
    app.include_router(network_clients.router)
