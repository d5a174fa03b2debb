"""Use cases of the report register: each runs in the caller's transaction, takes the
pupil's head row first (so versions and sequences come out gapless and in order) and
queues the change, metadata only, in the outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from iris.contracts import REPORT_CHANGES, ReportIssued, ReportWithdrawn, report_key
from iris.outbox import add_event
from services.reports import domain
from services.reports.models import Outbox, ReportContent, ReportHead, ReportRow


@dataclass(frozen=True)
class Content:
    needs: str
    advice: str
    measures_taken: str
    reasoning: str


@dataclass(frozen=True)
class Retry:
    """A client's Idempotency-Key and a digest of the request it sent with it."""

    key: str
    digest: str


@dataclass(frozen=True)
class Issue:
    report: domain.ReportVersion
    created: bool


@dataclass(frozen=True)
class Withdrawal:
    report: domain.ReportVersion
    changed: bool


def _lock_head(session: Session, pupil_id: str) -> ReportHead:
    """The pupil's head row, created if missing, locked until the transaction ends.

    SQLite takes the database write lock at BEGIN IMMEDIATE already; PostgreSQL
    locks the row (FOR UPDATE), and a concurrent first insert waits for the winner.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(ReportHead)
        .values(pupil_id=pupil_id, last_version=0, last_sequence=0)
        .on_conflict_do_nothing(index_elements=["pupil_id"])
    )
    head = session.scalar(
        select(ReportHead)
        .where(ReportHead.pupil_id == pupil_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert head is not None
    return head


def issued_event(report: domain.ReportVersion) -> ReportIssued:
    return ReportIssued(
        occurred_at=report.issued_at,
        report_id=report.report_id,
        pupil_id=report.pupil_id,
        version=report.version,
        kind=report.kind,  # type: ignore[arg-type]
        clb_id=report.clb_id,
        issued_at=report.issued_at,
        valid_from=report.valid_from,
        sequence=report.issue_sequence,
    )


def withdrawn_event(report: domain.ReportVersion) -> ReportWithdrawn:
    assert report.withdrawn_at is not None and report.withdrawn_on is not None
    assert report.withdraw_sequence is not None
    return ReportWithdrawn(
        occurred_at=report.withdrawn_at,
        report_id=report.report_id,
        pupil_id=report.pupil_id,
        version=report.version,
        withdrawn_at=report.withdrawn_at,
        withdrawn_on=report.withdrawn_on,
        sequence=report.withdraw_sequence,
        kind=report.kind,  # type: ignore[arg-type]
        clb_id=report.clb_id,
        issued_at=report.issued_at,
        valid_from=report.valid_from,
    )


def issue(
    session: Session,
    pupil_id: str,
    clb_id: str,
    placement: domain.Placement,
    valid_from: date,
    content: Content,
    issued_by: str,
    now: datetime,
    retry: Retry | None = None,
    issued_by_name: str | None = None,
) -> Issue:
    """Issue the pupil's next version; the previous one is superseded once this takes effect.

    A request that repeats an earlier one's Idempotency-Key finds that report
    instead (nothing changes); the same key with another request is refused.
    """
    head = _lock_head(session, pupil_id)
    if retry is not None:
        earlier = session.scalar(
            select(ReportRow).where(
                ReportRow.pupil_id == pupil_id, ReportRow.idempotency_key == retry.key
            )
        )
        if earlier is not None:
            if earlier.request_digest != retry.digest:
                raise domain.ReportRuleBroken(
                    "Idempotency-Key", "this Idempotency-Key came with another request", 409
                )
            return Issue(earlier.to_domain(), False)
    after = head.to_domain().issue()
    row = ReportRow(
        report_id=uuid.uuid4(),
        pupil_id=pupil_id,
        version=after.last_version,
        kind=placement.kind,
        clb_id=clb_id,
        valid_from=valid_from,
        type=placement.type,
        opleidingsvorm=placement.opleidingsvorm,
        level=placement.level,
        issued_at=now,
        issued_by=issued_by,
        issued_by_name=issued_by_name,
        issue_sequence=after.last_sequence,
        idempotency_key=retry.key if retry else None,
        request_digest=retry.digest if retry else None,
    )
    session.add(row)
    session.flush()
    session.add(
        ReportContent(
            report_id=row.report_id,
            needs=content.needs,
            advice=content.advice,
            measures_taken=content.measures_taken,
            reasoning=content.reasoning,
        )
    )
    head.last_version, head.last_sequence = after.last_version, after.last_sequence
    report = row.to_domain()
    add_event(
        session, Outbox, REPORT_CHANGES, report_key(pupil_id, report.version), issued_event(report)
    )
    session.flush()
    return Issue(report, True)


def find(session: Session, report_id: uuid.UUID) -> domain.ReportVersion | None:
    row = session.get(ReportRow, report_id)
    return row.to_domain() if row else None


def withdraw(
    session: Session,
    report_id: uuid.UUID,
    clb_staff_of: frozenset[str],
    withdrawn_by: str,
    now: datetime,
    today: date,
) -> Withdrawal:
    """Lift a report (opheffing). Lifting a lifted report changes nothing."""
    found = find(session, report_id)
    if found is None:
        raise domain.ReportRuleBroken("report_id", "no report with this report_id", 404)
    if not domain.may_withdraw(found, clb_staff_of):
        raise domain.ReportRuleBroken(
            "report_id", "only staff of the issuing CLB may withdraw this report", 403
        )
    head = _lock_head(session, found.pupil_id)
    row = session.scalar(
        select(ReportRow)
        .where(ReportRow.report_id == report_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if row.withdrawn_at is not None:
        return Withdrawal(row.to_domain(), False)
    after = head.to_domain().withdraw()
    row.withdrawn_at, row.withdrawn_on, row.withdrawn_by = now, today, withdrawn_by
    row.withdraw_sequence = after.last_sequence
    head.last_sequence = after.last_sequence
    report = row.to_domain()
    key = report_key(report.pupil_id, report.version)
    add_event(session, Outbox, REPORT_CHANGES, key, withdrawn_event(report))
    session.flush()
    return Withdrawal(report, True)


def versions_of(session: Session, pupil_id: str) -> list[domain.ReportVersion]:
    rows = session.scalars(
        select(ReportRow).where(ReportRow.pupil_id == pupil_id).order_by(ReportRow.version)
    )
    return [row.to_domain() for row in rows]


def content_of(session: Session, report_id: uuid.UUID) -> Content | None:
    row = session.get(ReportContent, report_id)
    if row is None:
        return None
    return Content(row.needs, row.advice, row.measures_taken, row.reasoning)


def republish(session: Session) -> int:
    """Queue every change again, per pupil in sequence order (after the topics were lost)."""
    rows = session.scalars(select(ReportRow).order_by(ReportRow.pupil_id, ReportRow.version))
    count = 0
    for _sequence, what, report in domain.changes_in_order(row.to_domain() for row in rows):
        event = issued_event(report) if what == "issued" else withdrawn_event(report)
        add_event(
            session, Outbox, REPORT_CHANGES, report_key(report.pupil_id, report.version), event
        )
        count += 1
    return count
