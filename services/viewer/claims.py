"""Claims of enrolment made visible: any school can register any pupil, and so gains sight
of that pupil's report (enrolment is the school's word). The worker counts, per school,
the first registrations of pupils who already have a report; an alert
(`IrisSchoolRegistersManyReportedPupils`) fires on a day with unusually many, and
docs/operations.md says how to respond."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter

from iris.contracts import EnrolmentChanged
from services.viewer.cache import AuthCache

REGISTRATIONS_WITH_REPORT = Counter(
    "iris_registrations_with_report_total",
    "First registrations at a school of pupils who already have a report",
    ["school_id"],
)


async def count_registrations_with_report(cache: AuthCache, events: Iterable[Any]) -> int:
    """Count the batch's first registrations (version 1) of pupils with a report."""
    first = [e for e in events if isinstance(e, EnrolmentChanged) and e.version == 1]
    if not first:
        return 0
    reported = await cache.with_report([e.pupil_id for e in first])
    counted = 0
    for event in first:
        if event.pupil_id in reported:
            REGISTRATIONS_WITH_REPORT.labels(event.school_id).inc()
            counted += 1
    return counted
