"""`iris republish reports`: queue every report change again, per pupil in order."""

from __future__ import annotations

from iris.settings import Settings
from iris.store import in_one_transaction
from services.reports import service


def republish(settings: Settings) -> int:
    return in_one_transaction("reports", settings, service.republish, hide_parameters=True)
