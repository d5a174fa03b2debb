"""What the reports service counts and logs of a change: metadata only."""

from __future__ import annotations

import logging

from prometheus_client import Counter

from iris.insz import mask_insz
from services.reports import domain

log = logging.getLogger(__name__)

REPORT_CHANGES = Counter(
    "iris_report_changes_total", "Report versions issued and withdrawn", ["change", "kind"]
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
        "report withdrawn", extra={"pupil": mask_insz(report.pupil_id), "version": report.version}
    )
