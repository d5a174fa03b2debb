"""The support request (*ondersteuningsvraag*) over HTTP: the school sends and follows
it, the support network's software reads, accepts or declines it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from iris.api_models import Body
from iris.auth import Principal
from iris.contracts import SupportRequestStatus
from iris.insz import INSZ
from iris.web import CurrentPrincipal, DbSession
from services.access import support
from services.access.deps import Deps, SchoolId, Today
from services.access.models import SupportRequestRow

router = APIRouter(tags=["support requests"])

Network = Annotated[str, Path(min_length=1, max_length=200)]
Question = Annotated[str, Field(min_length=1, max_length=4000)]


def _write(deps: Deps) -> Callable[[Callable[[Session], Any]], Any]:
    """Support requests span tables the repository port does not cover: they run on
    the session itself."""
    return deps.store.write


Write = Annotated[Callable[[Callable[[Session], Any]], Any], Depends(_write)]


class SupportRequestIn(Body):
    pupil_id: INSZ
    support_network: Annotated[str, Field(min_length=1, max_length=200)]
    question: Question


class AcceptIn(Body):
    support_workers: list[INSZ] = Field(min_length=1, max_length=20)


class DeclineIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class SupportWorkerOut(BaseModel):
    person_id: str
    request_id: str = Field(description="the access request filed for this worker")
    status: str = Field(description="that access request's status: pending/approved/rejected")


class SupportRequestOut(BaseModel):
    support_request_id: str
    school_id: str
    pupil_id: str
    pupil_name: str | None = Field(None, description="the name the school registered")
    support_network: str
    question: str
    status: SupportRequestStatus
    support_workers: list[SupportWorkerOut]
    decline_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


def support_request_out(session: Session, row: SupportRequestRow) -> SupportRequestOut:
    filed = support.access_requests_of(session, row.support_request_id)
    names = support.pupil_names(session, row.school_id, [row.pupil_id])
    return SupportRequestOut(
        support_request_id=row.support_request_id,
        school_id=row.school_id,
        pupil_id=row.pupil_id,
        pupil_name=names.get(row.pupil_id),
        support_network=row.support_network,
        question=row.question,
        status=row.status,  # type: ignore[arg-type]
        support_workers=[
            SupportWorkerOut(person_id=r.person_id, request_id=r.request_id, status=r.status)
            for r in filed
        ],
        decline_reason=row.decline_reason,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _in_session(write: Write, change: Callable[[Session], SupportRequestRow]) -> SupportRequestOut:
    return write(lambda s: support_request_out(s, change(s)))  # type: ignore[no-any-return]


def school_staff(
    session: Session, principal: Principal, school_id: str, pupil_id: str | None, today: date
) -> str:
    """The acting person: the school responsible, or a care coordinator or pupil counsellor."""
    responsible = principal.is_person and school_id in principal.school_admin_of
    if not principal.is_person or not support.may_follow(
        session, school_id, principal.subject, responsible, pupil_id, today
    ):
        raise HTTPException(
            403,
            "school_id: only the school responsible, a care coordinator or a pupil counsellor "
            "of this school (for this pupil) sends and follows support requests",
        )
    return principal.subject


def network_at(principal: Principal, network: str) -> str:
    if principal.support_network is None or principal.support_network != network:
        raise HTTPException(403, "network: this is not your support network")
    return network


@router.post(
    "/v1/schools/{school_id}/support-requests",
    response_model=SupportRequestOut,
    status_code=201,
)
def send_support_request(
    school_id: SchoolId,
    body: SupportRequestIn,
    principal: CurrentPrincipal,
    session: DbSession,
    write: Write,
    today: Today,
) -> SupportRequestOut:
    """Ask a support network for support for a pupil registered at the school."""
    actor = school_staff(session, principal, school_id, body.pupil_id, today)
    session.close()
    return _in_session(
        write,
        lambda s: support.send(
            s, school_id, body.pupil_id, body.support_network, body.question, actor, today
        ),
    )


@router.get("/v1/schools/{school_id}/support-requests", response_model=list[SupportRequestOut])
def list_school_support_requests(
    school_id: SchoolId, principal: CurrentPrincipal, session: DbSession, today: Today
) -> list[SupportRequestOut]:
    """The school's support requests, newest first, each with its status."""
    person = school_staff(session, principal, school_id, None, today)
    responsible = school_id in principal.school_admin_of
    followed = support.followed_by(session, school_id, person, responsible, today)
    return [support_request_out(session, r) for r in followed]


@router.get(
    "/v1/schools/{school_id}/support-requests/{support_request_id}",
    response_model=SupportRequestOut,
)
def read_school_support_request(
    school_id: SchoolId,
    support_request_id: str,
    principal: CurrentPrincipal,
    session: DbSession,
    today: Today,
) -> SupportRequestOut:
    """One support request of the school and how far it has come."""
    school_staff(session, principal, school_id, None, today)
    row = support.support_request_row(session, support_request_id, school_id=school_id)
    school_staff(session, principal, school_id, row.pupil_id, today)
    return support_request_out(session, row)


@router.get(
    "/v1/support-networks/{network}/support-requests", response_model=list[SupportRequestOut]
)
def list_network_support_requests(
    network: Network, principal: CurrentPrincipal, session: DbSession
) -> list[SupportRequestOut]:
    """The support requests sent to this support network, newest first."""
    network_at(principal, network)
    return [support_request_out(session, r) for r in support.of_network(session, network)]


@dataclass
class NetworkAnswer:
    """A support network's software answering one of the network's support requests."""

    network: str
    support_request_id: str
    principal: Principal
    write: Callable[[Callable[[Session], Any]], Any]

    def make(self, answer: Callable[..., SupportRequestRow], given: Any) -> SupportRequestOut:
        """`answer(session, network, support_request_id, given, actor)`, once the caller is
        the network's own software; 403 else."""
        network_at(self.principal, self.network)
        actor = self.principal.subject
        return _in_session(
            self.write,
            lambda s: answer(s, self.network, self.support_request_id, given, actor),
        )


def _network_answer(
    network: Network, support_request_id: str, principal: CurrentPrincipal, write: Write
) -> NetworkAnswer:
    return NetworkAnswer(network, support_request_id, principal, write)


Answering = Annotated[NetworkAnswer, Depends(_network_answer)]


@router.post(
    "/v1/support-networks/{network}/support-requests/{support_request_id}/accept",
    response_model=SupportRequestOut,
)
def accept_support_request(body: AcceptIn, answering: Answering) -> SupportRequestOut:
    """Accept, naming the support workers: one access request per worker, for that pupil."""
    return answering.make(support.accept, body.support_workers)


@router.post(
    "/v1/support-networks/{network}/support-requests/{support_request_id}/decline",
    response_model=SupportRequestOut,
)
def decline_support_request(body: DeclineIn, answering: Answering) -> SupportRequestOut:
    """Decline, with the reason the school will read."""
    return answering.make(support.decline, body.reason)
