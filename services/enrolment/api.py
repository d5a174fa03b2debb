"""Enrolment HTTP API: school software registers and ends enrolments at its own school."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated

from fastapi import FastAPI, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from iris.auth import Principal, verifier_for
from iris.contracts import IsoDate
from iris.insz import INSZ, InstitutionNumber
from iris.settings import Settings
from iris.store import ServiceStore
from iris.web import CurrentPrincipal, DbSession, create_base_app
from services.enrolment import domain, service
from services.enrolment.models import Outbox

SERVICE = "enrolment"


class EnrolmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pupil_id: INSZ
    school_id: InstitutionNumber
    start_date: IsoDate
    end_date: IsoDate | None = None
    display_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    combination: bool = Field(
        False,
        description="the pupil stays enrolled at another school too (a combination, e.g. "
        "mainstream with special education); otherwise the pupil's other enrolments end the "
        "day before start_date",
    )


class EnrolmentEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pupil_id: INSZ
    school_id: InstitutionNumber
    end_date: IsoDate


class EnrolmentOut(BaseModel):
    pupil_id: str
    school_id: str
    start_date: date
    end_date: date | None
    display_name: str | None
    version: int
    combination: bool = False
    ended_by_school_change: bool = Field(
        False, description="the register ended it when the pupil was registered at another school"
    )
    changed: bool = Field(description="false when the submission repeated known facts")


def _out(enrolment: domain.Enrolment, changed: bool) -> EnrolmentOut:
    return EnrolmentOut(
        pupil_id=enrolment.pupil_id,
        school_id=enrolment.school_id,
        start_date=enrolment.start_date,
        end_date=enrolment.end_date,
        display_name=enrolment.display_name,
        version=enrolment.version,
        combination=enrolment.combination,
        ended_by_school_change=enrolment.ended_by_school_change,
        changed=changed,
    )


def school_of_client(principal: Principal) -> str:
    if principal.school_client_of is None:
        raise HTTPException(403, "only a school-software client of a school may use this API")
    return principal.school_client_of


def create_app(
    settings: Settings | None = None, today: Callable[[], date] | None = None
) -> FastAPI:
    settings = settings or Settings()
    today = today or service.belgian_today
    store = ServiceStore.open(SERVICE, settings, Outbox)
    sessions, relay = store.sessions, store.relay

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with store.running():
            yield

    app = create_base_app(
        SERVICE,
        readiness=[("database", store.database_ready)],
        max_body_bytes=settings.max_body_bytes,
        lifespan=lifespan,
    )
    app.state.verifier = verifier_for(settings)
    app.state.sessions = sessions
    app.state.relay = relay
    app.state.metrics_hooks = [store.update_metrics]

    write = store.write  # two first registrations may race: the loser reads the winner

    @app.post("/v1/enrolments", response_model=EnrolmentOut)
    def register_enrolment(body: EnrolmentIn, principal: CurrentPrincipal) -> EnrolmentOut:
        """Register (or restate) a pupil's enrolment at the caller's school.

        Unless `combination` is true, the pupil's enrolments at other schools end the
        day before `start_date`; a start too far ahead is refused (422, `start_date`).
        """
        if school_of_client(principal) != body.school_id:
            raise HTTPException(403, "school_id: a client may only register at its own school")
        outcome = write(
            lambda s: service.register(
                s,
                body.pupil_id,
                body.school_id,
                body.start_date,
                body.end_date,
                body.display_name,
                body.combination,
                today(),
                settings.enrolment_school_years_ahead,
            )
        )
        assert outcome.enrolment is not None
        return _out(outcome.enrolment, outcome.changed)

    @app.post("/v1/enrolments/end", response_model=EnrolmentOut)
    def end_enrolment(body: EnrolmentEndIn, principal: CurrentPrincipal) -> EnrolmentOut:
        """End a pupil's enrolment at the caller's school on `end_date`."""
        if school_of_client(principal) != body.school_id:
            raise HTTPException(
                403, "school_id: a client may only end enrolments at its own school"
            )
        outcome = write(lambda s: service.end(s, body.pupil_id, body.school_id, body.end_date))
        assert outcome.enrolment is not None
        return _out(outcome.enrolment, outcome.changed)

    @app.get("/v1/pupils/{pupil_id}/enrolments", response_model=list[EnrolmentOut])
    def list_enrolments(
        pupil_id: Annotated[INSZ, Path()], principal: CurrentPrincipal, session: DbSession
    ) -> list[EnrolmentOut]:
        """The pupil's enrolments at the caller's school (other schools stay private)."""
        school_id = school_of_client(principal)
        return [_out(e, False) for e in service.enrolments_of(session, pupil_id, school_id)]

    return app
