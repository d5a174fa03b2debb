"""`iris republish access`: queue every grant's current state for publishing."""

from __future__ import annotations

from iris.settings import Settings
from iris.store import in_one_transaction
from services.access import service


def republish(settings: Settings) -> int:
    return in_one_transaction("access", settings, service.republish)
