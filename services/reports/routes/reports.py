"""CLB staff issue, withdraw and list a pupil's report versions (metadata only)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response

from iris.auth import Principal
from iris.contracts import utcnow
from iris.insz import INSZ
from iris.web import CurrentPrincipal
from services.reports import domain, metrics, service
from services.reports.deps import Deps
from services.reports.repository import ReportRepository
from services.reports.schemas import ReportIn, ReportOut, WithdrawalOut

router = APIRouter()

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="optional; a retry with the same key and request "
        "answers the report made the first time instead of a new version",
    ),
]


def answer_of(
    report: domain.ReportVersion, versions: list[domain.ReportVersion], today: date
) -> dict[str, Any]:
    """A version's answer: its metadata (the response model leaves out who issued it)."""
    status = domain.status_of(report, versions, today)
    return {
        **vars(report),
        "withdrawn": report.withdrawn,
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


@router.post(
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
    deps: Deps,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Issue a new version of the pupil's report; it supersedes the previous one
    from its valid_from on. The answer holds metadata, never the content."""
    require_clb_staff(principal, body.clb_id)
    request = service.IssueRequest(
        pupil_id=pupil_id,
        clb_id=body.clb_id,
        placement=domain.check_placement(body.kind, body.type, body.opleidingsvorm, body.level),
        valid_from=body.valid_from,
        content=domain.Content(**body.content.model_dump()),
        issued_by=principal.subject,
        issued_by_name=principal.name,
        retry=domain.Retry(idempotency_key, request_digest(principal, body))
        if idempotency_key
        else None,
    )

    def change(repo: ReportRepository) -> tuple[service.Issue, dict[str, Any]]:
        done = service.issue(repo, request, utcnow())
        return done, answer_of(done.report, repo.versions_of(pupil_id), deps.clock())

    done, answer = deps.write(change)
    if done.created:
        metrics.issued(done.report)
    else:
        response.status_code = 200
    return answer


@router.post("/v1/reports/{report_id}/withdraw", response_model=WithdrawalOut)
def withdraw_report(
    report_id: Annotated[uuid.UUID, Path()], principal: CurrentPrincipal, deps: Deps
) -> dict[str, Any]:
    """Withdraw (opheffing) a report: if it is current, the pupil has no current
    report until a new one is issued. Withdrawing again changes nothing."""
    require_clb_staff(principal)

    def change(repo: ReportRepository) -> tuple[service.Withdrawal, dict[str, Any]]:
        today = deps.clock()
        done = service.withdraw(
            repo, report_id, principal.clb_staff_of, principal.subject, utcnow(), today
        )
        versions = repo.versions_of(done.report.pupil_id)
        return done, {**answer_of(done.report, versions, today), "changed": done.changed}

    done, answer = deps.write(change)
    if done.changed:
        metrics.withdrawn(done.report)
    return answer


@router.get("/v1/pupils/{pupil_id}/reports", response_model=list[ReportOut])
def list_reports(
    pupil_id: Annotated[INSZ, Path()], principal: CurrentPrincipal, deps: Deps
) -> list[dict[str, Any]]:
    """The pupil's report versions, oldest first, with which one is current (no content)."""
    require_clb_staff(principal)
    versions = deps.read(lambda repo: repo.versions_of(pupil_id))
    today = deps.clock()
    return [answer_of(v, versions, today) for v in versions]
