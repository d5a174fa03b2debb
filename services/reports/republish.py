"""`iris republish reports`: queue every report change again, per pupil in order."""

from __future__ import annotations

from iris.settings import Settings
from iris.store import in_one_transaction
from services.reports import service
from services.reports.repository import SqlReportRepository


def republish(settings: Settings) -> int:
    return in_one_transaction(
        "reports",
        settings,
        lambda session: service.republish(SqlReportRepository(session)),
        hide_parameters=True,
    )
