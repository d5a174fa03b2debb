"""Reports HTTP API: CLB staff issue, withdraw and list a pupil's report versions;
the viewer alone reads the content of a pupil's current report."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy.orm import Session

from iris.auth import Principal, TokenVerifier, verifier_for
from iris.contracts import IsoDate, utcnow
from iris.db import transaction
from iris.insz import INSZ, InstitutionNumber, mask_insz
from iris.settings import Settings
from iris.store import ServiceStore
from iris.web import (
    CurrentPrincipal,
    DbSession,
    bearer_principal,
    create_base_app,
)
from services.reports import domain, name_search, service
from services.reports.models import Outbox
from services.reports.pages import add_pages

SERVICE = "reports"
BRUSSELS = ZoneInfo("Europe/Brussels")

log = logging.getLogger(__name__)

REPORT_CHANGES = Counter(
    "iris_report_changes_total", "Report versions issued and withdrawn", ["change", "kind"]
)

T = TypeVar("T")


def today_in_brussels() -> date:
    return datetime.now(BRUSSELS).date()


def _section(text: str) -> str:
    problem = domain.section_problem(text)
    if problem:
        raise ValueError(problem)
    return text


def _type_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Section = Annotated[
    str,
    AfterValidator(_section),
    Field(
        description=f"plain text, at most {domain.SECTION_MAX_CHARS} characters",
        json_schema_extra={"maxLength": domain.SECTION_MAX_CHARS},
    ),
]


class ContentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    needs: Section = Field(description="the pupil's educational needs")
    advice: Section = Field(description="the advice to the school")
    measures_taken: Section = Field(description="measures already taken and why they fall short")
    reasoning: Section = Field(description="the reasoning behind the report")


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: domain.Kind = Field(description="IAC, OV4, GC (since 2023) or the legacy V, GV")
    clb_id: InstitutionNumber = Field(description="instellingsnummer of the issuing CLB")
    valid_from: IsoDate = Field(description="ingangsdatum: the report takes effect on this day")
    type: Annotated[domain.BoType | None, BeforeValidator(_type_as_text)] = Field(
        default=None,
        description="buitengewoon-onderwijs type; required for V, IAC and OV4. "
        "Not basisaanbod in nursery; in secondary, as organised per opleidingsvorm "
        "(basisaanbod: 3; type 2: 1 and 2; types 3, 4, 6, 7, 9: all)",
    )
    opleidingsvorm: Annotated[int, Field(ge=1, le=4)] | None = Field(
        default=None,
        description="secondary only; required in secondary for V and IAC (1-3), "
        "OV4 reports have 4; never for GC or GV",
    )
    level: domain.Level | None = Field(
        default=None,
        description="the pupil's level of education: nursery, primary or secondary. "
        "Optional; an opleidingsvorm or kind OV4 implies secondary. The rules that depend "
        "on the level (no basisaanbod in nursery, opleidingsvorm only in secondary) apply "
        "when it is known.",
    )
    content: ContentIn


class ReportOut(BaseModel):
    """A version's metadata: never its content."""

    report_id: uuid.UUID
    pupil_id: str
    version: int
    kind: str
    clb_id: str
    valid_from: date
    issued_at: datetime
    type: str | None
    opleidingsvorm: int | None
    level: str | None
    withdrawn: bool
    withdrawn_at: datetime | None
    withdrawn_on: date | None
    status: domain.Status = Field(
        description="current; scheduled (valid_from still ahead); superseded; withdrawn"
    )
    current: bool = Field(description="true for the one version that is the current report")


class WithdrawalOut(ReportOut):
    changed: bool = Field(description="false when the report had been withdrawn already")


class ContentOut(BaseModel):
    needs: str
    advice: str
    measures_taken: str
    reasoning: str


class InternalReportOut(BaseModel):
    """The current report with its content, for the viewer's rendering only."""

    report_id: uuid.UUID
    pupil_id: str
    version: int
    kind: str
    clb_id: str
    valid_from: date
    issued_at: datetime
    type: str | None
    opleidingsvorm: int | None
    level: str | None
    content: ContentOut


def _out(
    report: domain.ReportVersion, versions: list[domain.ReportVersion], today: date
) -> dict[str, Any]:
    status = domain.status_of(report, versions, today)
    return {
        "report_id": report.report_id,
        "pupil_id": report.pupil_id,
        "version": report.version,
        "kind": report.kind,
        "clb_id": report.clb_id,
        "valid_from": report.valid_from,
        "issued_at": report.issued_at,
        "type": report.type,
        "opleidingsvorm": report.opleidingsvorm,
        "level": report.level,
        "withdrawn": report.withdrawn,
        "withdrawn_at": report.withdrawn_at,
        "withdrawn_on": report.withdrawn_on,
        "status": status,
        "current": status == "current",
    }


def request_digest(principal: Principal, body: ReportIn) -> str:
    """What a retry must repeat: the same caller and the same request."""
    canonical = json.dumps(
        [principal.subject, body.model_dump(mode="json")], sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def require_clb_staff(principal: Principal, clb_id: str | None = None) -> None:
    if not principal.is_person or not principal.clb_staff_of:
        raise domain.ReportRuleBroken("authorization", "only CLB staff may use this API", 403)
    if clb_id is not None and clb_id not in principal.clb_staff_of:
        raise domain.ReportRuleBroken(
            "clb_id", "a report may only be issued by staff of the issuing CLB", 403
        )


def internal_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.internal_verifier
    return verifier


ServicePrincipal = Annotated[Principal, Depends(bearer_principal(internal_verifier))]


def create_app(
    settings: Settings | None = None, clock: Callable[[], date] | None = None
) -> FastAPI:
    settings = settings or Settings()
    today = clock or today_in_brussels
    # hide_parameters: a failing statement never carries report content into a log line
    store = ServiceStore.open(SERVICE, settings, Outbox, hide_parameters=True)
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
    app.state.internal_verifier = verifier_for(settings, settings.internal_audience)
    app.state.sessions = sessions
    app.state.relay = relay
    app.state.clock = today
    app.state.metrics_hooks = [store.update_metrics]

    def write(change: Callable[[Session], T]) -> T:
        with transaction(sessions) as session:
            result = change(session)
        relay.notify()
        return result

    @app.post(
        "/v1/pupils/{pupil_id}/reports",
        response_model=ReportOut,
        status_code=201,
        responses={200: {"description": "a retry with a known Idempotency-Key: nothing changed"}},
    )
    def issue_report(
        pupil_id: Annotated[INSZ, Path()],
        body: ReportIn,
        principal: CurrentPrincipal,
        response: Response,
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                min_length=1,
                max_length=200,
                pattern=r"^[\x21-\x7e]+$",
                description="optional; a retry with the same key and request "
                "answers the report made the first time instead of a new version",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Issue a new version of the pupil's report; it supersedes the previous one
        from its valid_from on. The answer holds metadata, never the content."""
        require_clb_staff(principal, body.clb_id)
        placement = domain.check_placement(body.kind, body.type, body.opleidingsvorm, body.level)
        content = service.Content(**body.content.model_dump())
        retry = (
            service.Retry(idempotency_key, request_digest(principal, body))
            if idempotency_key
            else None
        )

        def change(session: Session) -> tuple[dict[str, Any], bool]:
            done = service.issue(
                session,
                pupil_id,
                body.clb_id,
                placement,
                body.valid_from,
                content,
                principal.subject,
                utcnow(),
                retry,
                principal.name,
            )
            return _out(done.report, service.versions_of(session, pupil_id), today()), done.created

        answer, created = write(change)
        if not created:
            response.status_code = 200
            return answer
        REPORT_CHANGES.labels("issued", body.kind).inc()
        log.info(
            "report issued",
            extra={
                "pupil": mask_insz(pupil_id),
                "version": answer["version"],
                "kind": body.kind,
                "clb_id": body.clb_id,
            },
        )
        return answer

    @app.post("/v1/reports/{report_id}/withdraw", response_model=WithdrawalOut)
    def withdraw_report(
        report_id: Annotated[uuid.UUID, Path()], principal: CurrentPrincipal
    ) -> dict[str, Any]:
        """Withdraw (opheffing) a report: if it is current, the pupil has no current
        report until a new one is issued. Withdrawing again changes nothing."""
        require_clb_staff(principal)

        def change(session: Session) -> dict[str, Any]:
            done = service.withdraw(
                session, report_id, principal.clb_staff_of, principal.subject, utcnow(), today()
            )
            versions = service.versions_of(session, done.report.pupil_id)
            return {**_out(done.report, versions, today()), "changed": done.changed}

        answer = write(change)
        if answer["changed"]:
            REPORT_CHANGES.labels("withdrawn", answer["kind"]).inc()
            log.info(
                "report withdrawn",
                extra={"pupil": mask_insz(answer["pupil_id"]), "version": answer["version"]},
            )
        return answer

    @app.get("/v1/pupils/{pupil_id}/reports", response_model=list[ReportOut])
    def list_reports(
        pupil_id: Annotated[INSZ, Path()], principal: CurrentPrincipal, session: DbSession
    ) -> list[dict[str, Any]]:
        """The pupil's report versions, oldest first, with which one is current (no content)."""
        require_clb_staff(principal)
        versions = service.versions_of(session, pupil_id)
        day = today()
        return [_out(v, versions, day) for v in versions]

    @app.get(
        "/internal/reports/{report_id}",
        response_model=InternalReportOut,
        responses={404: {"description": "unknown, or not the pupil's current report now"}},
    )
    def read_current_report(
        report_id: Annotated[uuid.UUID, Path()],
        principal: ServicePrincipal,
        session: DbSession,
    ) -> JSONResponse:
        """The content of a report, only while it is the pupil's current report (viewer only)."""
        if principal.service != "viewer":
            raise domain.ReportRuleBroken(
                "authorization", "only the viewer's service identity may read content", 403
            )
        found = service.find(session, report_id)
        now = (
            domain.current(service.versions_of(session, found.pupil_id), today()) if found else None
        )
        content = service.content_of(session, report_id) if now else None
        if now is None or now.report_id != report_id or content is None:
            raise domain.ReportRuleBroken(
                "report_id", "this report is not the pupil's current report", 404
            )
        answer = InternalReportOut(
            report_id=now.report_id,
            pupil_id=now.pupil_id,
            version=now.version,
            kind=now.kind,
            clb_id=now.clb_id,
            valid_from=now.valid_from,
            issued_at=now.issued_at,
            type=now.type,
            opleidingsvorm=now.opleidingsvorm,
            level=now.level,
            content=ContentOut(**vars(content)),
        )
        return JSONResponse(
            answer.model_dump(mode="json"),
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def issued(report: domain.ReportVersion) -> None:
        REPORT_CHANGES.labels("issued", report.kind).inc()
        log.info(
            "report issued",
            extra={
                "pupil": mask_insz(report.pupil_id),
                "version": report.version,
                "kind": report.kind,
                "clb_id": report.clb_id,
            },
        )

    def withdrawn(report: domain.ReportVersion) -> None:
        REPORT_CHANGES.labels("withdrawn", report.kind).inc()
        log.info(
            "report withdrawn",
            extra={"pupil": mask_insz(report.pupil_id), "version": report.version},
        )

    add_pages(app, settings, SERVICE, sessions, write, today, issued, withdrawn)
    app.include_router(name_search.router)
    return app
