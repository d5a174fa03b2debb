"""What the reports service deletes once its retention period has passed (iris.retention):
report versions withdrawn or superseded longer ago than the CLB keeps them, with their
content (and a tombstone of the version's key, so that the viewer forgets it too), and
published events.

A pupil's versions go oldest first and only as a run from the oldest: a newer version that
replaced an older one is kept as long as that older one is, so whatever remains still
yields the same current report (docs/ARCHITECTURE.md, the current-report rule)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from iris.contracts import REPORT_CHANGES, report_key
from iris.outbox import add_tombstone
from iris.retention import Kind, outbox_kind
from services.reports.models import Outbox, ReportContent, ReportRow


@dataclass(frozen=True)
class Kept:
    """What the purge needs to know of one report version."""

    report_id: object
    version: int
    valid_from: date
    withdrawn_at: date | None
    withdrawn_on: date | None
    pupil_id: str

    @property
    def cancelled(self) -> bool:
        """Withdrawn before it took effect: it never replaced anything."""
        return self.withdrawn_on is not None and self.withdrawn_on < self.valid_from


def replaced_since(version: Kept, newer: list[Kept]) -> date | None:
    """Since when `version` no longer serves: withdrawn, or superseded by a newer version
    that took effect; None while it is current or waits for its start date."""
    moments = [w.valid_from for w in newer if not w.cancelled]
    if version.withdrawn_at is not None:
        moments.append(version.withdrawn_at)
    return min(moments) if moments else None


def purgeable(versions: list[Kept], before: date) -> list[Kept]:
    """The run of a pupil's oldest versions each replaced before `before`."""
    ordered = sorted(versions, key=lambda v: v.version)
    run = []
    for n, version in enumerate(ordered):
        since = replaced_since(version, ordered[n + 1 :])
        if since is None or since >= before:
            break
        run.append(version)
    return run


def _replaced(session: Session, cutoff: datetime, limit: int | None) -> list[Kept]:
    before = cutoff.date()
    candidates = select(ReportRow.pupil_id).where(
        (ReportRow.withdrawn_at < cutoff) | (ReportRow.version > 1)
    )
    rows = session.execute(
        select(
            ReportRow.pupil_id,
            ReportRow.report_id,
            ReportRow.version,
            ReportRow.valid_from,
            ReportRow.withdrawn_at,
            ReportRow.withdrawn_on,
        )
        .where(ReportRow.pupil_id.in_(candidates.distinct()))
        .order_by(ReportRow.pupil_id, ReportRow.version)
    )
    by_pupil: dict[str, list[Kept]] = {}
    for r in rows:
        withdrawn = r.withdrawn_at.date() if r.withdrawn_at is not None else None
        by_pupil.setdefault(r.pupil_id, []).append(
            Kept(r.report_id, r.version, r.valid_from, withdrawn, r.withdrawn_on, r.pupil_id)
        )
    found = [v for versions in by_pupil.values() for v in purgeable(versions, before)]
    return found[:limit] if limit is not None else found


def _forget_replaced(session: Session, versions: list[Kept]) -> None:
    ids = [v.report_id for v in versions]
    session.execute(delete(ReportContent).where(ReportContent.report_id.in_(ids)))
    session.execute(delete(ReportRow).where(ReportRow.report_id.in_(ids)))
    for version in versions:
        add_tombstone(
            session, Outbox, REPORT_CHANGES, report_key(version.pupil_id, version.version)
        )


KINDS = (
    Kind("replaced_report_versions", "replaced_report", _replaced, _forget_replaced),
    outbox_kind(Outbox),
)
