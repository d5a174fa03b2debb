"""The reports service's part of an erasure (iris.erasure): a pupil's report versions with
their content, each with a tombstone so that the viewer forgets it; a person's name as the
author of the versions they issued or withdrew."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from iris.contracts import REPORT_CHANGES, report_key
from iris.erasure import ERASED, Role, drop_outbox
from iris.outbox import add_tombstone
from services.reports.models import Outbox, ReportContent, ReportHead, ReportRow


def erase(session: Session, role: Role, insz: str, _reference: str) -> dict[str, int]:
    events = drop_outbox(session, Outbox, insz)
    if role == "person":
        authored = 0
        for column in ("issued_by", "withdrawn_by"):
            result = session.execute(
                update(ReportRow)
                .where(getattr(ReportRow, column) == insz)
                .values(
                    {column: ERASED, "issued_by_name": None}
                    if column == "issued_by"
                    else {column: ERASED}
                )
            )
            authored += int(getattr(result, "rowcount", 0) or 0)
        return {"authored_versions": authored, "events": events}
    versions = list(
        session.execute(
            select(ReportRow.report_id, ReportRow.version).where(ReportRow.pupil_id == insz)
        )
    )
    ids = [v.report_id for v in versions]
    session.execute(delete(ReportContent).where(ReportContent.report_id.in_(ids)))
    session.execute(delete(ReportRow).where(ReportRow.pupil_id == insz))
    session.execute(delete(ReportHead).where(ReportHead.pupil_id == insz))
    for found in versions:
        add_tombstone(session, Outbox, REPORT_CHANGES, report_key(insz, found.version))
    return {"report_versions": len(versions), "events": events}
