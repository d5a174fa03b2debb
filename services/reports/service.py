"""Use cases of the report register: each runs in one transaction of a `ReportRepository`,
takes the pupil's head first (so versions and sequences come out gapless and in order)
and queues the change, metadata only, on `iris.report.changes`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from iris.contracts import ReportIssued, ReportWithdrawn
from services.reports import domain
from services.reports.repository import ReportRepository


@dataclass(frozen=True)
class Issue:
    report: domain.ReportVersion
    created: bool


@dataclass(frozen=True)
class Withdrawal:
    report: domain.ReportVersion
    changed: bool


@dataclass(frozen=True)
class IssueRequest:
    """What CLB staff ask to issue, checked by the register's rules already."""

    pupil_id: str
    clb_id: str
    placement: domain.Placement
    valid_from: date
    content: domain.Content
    issued_by: str
    issued_by_name: str | None = None
    retry: domain.Retry | None = None


def _version_fields(report: domain.ReportVersion) -> dict[str, Any]:
    """What a version's ReportIssued says, repeated by its ReportWithdrawn so that the
    withdrawal alone (all compaction keeps) still names the version."""
    return {
        "report_id": report.report_id,
        "pupil_id": report.pupil_id,
        "version": report.version,
        "kind": report.kind,
        "clb_id": report.clb_id,
        "issued_at": report.issued_at,
        "valid_from": report.valid_from,
    }


def issued_event(report: domain.ReportVersion) -> ReportIssued:
    return ReportIssued(
        occurred_at=report.issued_at, sequence=report.issue_sequence, **_version_fields(report)
    )


def withdrawn_event(report: domain.ReportVersion) -> ReportWithdrawn:
    assert report.withdrawn_at is not None and report.withdrawn_on is not None
    assert report.withdraw_sequence is not None
    return ReportWithdrawn(
        occurred_at=report.withdrawn_at,
        withdrawn_at=report.withdrawn_at,
        withdrawn_on=report.withdrawn_on,
        sequence=report.withdraw_sequence,
        **_version_fields(report),
    )


def issue(repo: ReportRepository, request: IssueRequest, now: datetime) -> Issue:
    """Issue the pupil's next version; the previous one is superseded once this takes effect.

    A request that repeats an earlier one's Idempotency-Key finds that report
    instead (nothing changes); the same key with another request is refused.
    """
    head = repo.lock_head(request.pupil_id)
    retry = request.retry
    if retry is not None:
        earlier = repo.retried(request.pupil_id, retry.key)
        if earlier is not None:
            report, digest = earlier
            if digest != retry.digest:
                raise domain.ReportRuleBroken(
                    "Idempotency-Key", "this Idempotency-Key came with another request", 409
                )
            return Issue(report, False)
    after = head.issue()
    placement = request.placement
    report = domain.ReportVersion(
        report_id=uuid.uuid4(),
        pupil_id=request.pupil_id,
        version=after.last_version,
        kind=placement.kind,
        clb_id=request.clb_id,
        valid_from=request.valid_from,
        issued_at=now,
        type=placement.type,
        opleidingsvorm=placement.opleidingsvorm,
        level=placement.level,
        issue_sequence=after.last_sequence,
        issued_by=request.issued_by,
        issued_by_name=request.issued_by_name,
    )
    repo.add(report, request.content, retry)
    repo.save_head(request.pupil_id, after)
    repo.publish(report.pupil_id, issued_event(report))
    return Issue(report, True)


def withdraw(
    repo: ReportRepository,
    report_id: uuid.UUID,
    clb_staff_of: frozenset[str],
    withdrawn_by: str,
    now: datetime,
    today: date,
    reason: str | None = None,
) -> Withdrawal:
    """Lift a report (opheffing), keeping why (never published: the event names the
    version alone). Lifting a lifted report changes nothing."""
    found = repo.get(report_id)
    if found is None:
        raise domain.ReportRuleBroken("report_id", "no report with this report_id", 404)
    if not domain.may_withdraw(found, clb_staff_of):
        raise domain.ReportRuleBroken(
            "report_id", "only staff of the issuing CLB may withdraw this report", 403
        )
    head = repo.lock_head(found.pupil_id)
    held = repo.get(report_id)  # again, now that the head is ours: withdrawn meanwhile?
    assert held is not None
    if held.withdrawn:
        return Withdrawal(held, False)
    after = head.withdraw()
    report = replace(
        held,
        withdrawn_at=now,
        withdrawn_on=today,
        withdraw_sequence=after.last_sequence,
        withdrawal_reason=reason,
    )
    repo.save_withdrawal(report, withdrawn_by)
    repo.save_head(report.pupil_id, after)
    repo.publish(report.pupil_id, withdrawn_event(report))
    return Withdrawal(report, True)


def current_content(
    repo: ReportRepository, report_id: uuid.UUID, today: date
) -> tuple[domain.ReportVersion, domain.Content] | None:
    """The report and its content while it is its pupil's current report, else None."""
    found = repo.get(report_id)
    now = domain.current(repo.versions_of(found.pupil_id), today) if found else None
    if now is None or now.report_id != report_id:
        return None
    content = repo.content_of(report_id)
    return (now, content) if content is not None else None


def republish(repo: ReportRepository) -> int:
    """Queue every change again, per pupil in sequence order (after the topics were lost)."""
    count = 0
    for _sequence, what, report in domain.changes_in_order(repo.every_version()):
        event = issued_event(report) if what == "issued" else withdrawn_event(report)
        repo.publish(report.pupil_id, event)
        count += 1
    return count
