"""Launch tickets over HTTP: school software asks for one with its client token; the
viewer redeems it on an internal route (services/access/launch_tickets.py keeps them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from iris.api_models import Body
from iris.insz import INSZ
from iris.web import CurrentPrincipal
from services.access.deps import Deps, SchoolId, ViewerService
from services.access.launch_tickets import issue, redeem

router = APIRouter(tags=["launch tickets"])


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


@router.post(
    "/v1/schools/{school_id}/launch-tickets", response_model=LaunchTicketOut, status_code=201
)
def issue_launch_ticket(
    school_id: SchoolId, body: LaunchTicketIn, principal: CurrentPrincipal, deps: Deps
) -> LaunchTicketOut:
    """A single-use ticket that opens the viewer's frame on this pupil (school software)."""
    if principal.school_client_of is None:
        raise HTTPException(403, "only school software asks for launch tickets")
    if principal.school_client_of != school_id:
        raise HTTPException(403, "school_id: a client asks tickets for its own school only")
    client_id = str(principal.claims.get("client_id") or principal.subject.removeprefix("client:"))
    ttl = deps.settings.launch_ticket_ttl_seconds
    ticket = deps.store.write(lambda s: issue(s, school_id, body.pupil_id, client_id, ttl))
    viewer = deps.settings.viewer_url.rstrip("/")
    return LaunchTicketOut(
        ticket=ticket, expires_in=ttl, embed_url=f"{viewer}/embed/launch?ticket={ticket}"
    )


@router.post("/internal/launch-tickets/redeem", response_model=LaunchOut, include_in_schema=False)
def redeem_launch_ticket(body: RedeemIn, _viewer: ViewerService, deps: Deps) -> LaunchOut:
    """For the viewer: the pupil and school a ticket opens, once."""
    row = deps.store.write(lambda s: redeem(s, body.ticket))
    if row is None:
        raise HTTPException(404, "ticket: unknown, used or expired")
    return LaunchOut(pupil_id=row.pupil_id, school_id=row.school_id, client_id=row.client_id)
