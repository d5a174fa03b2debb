"""`iris republish viewer`: queue every recorded view for `iris.viewer.audit` again."""

from __future__ import annotations

from iris.settings import Settings
from iris.store import in_one_transaction
from services.viewer import service
from services.viewer.repository import SqlViewerRepository


def republish(settings: Settings) -> int:
    return in_one_transaction(
        "viewer", settings, lambda session: service.republish(SqlViewerRepository(session))
    )
