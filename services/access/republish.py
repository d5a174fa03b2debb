"""`iris republish access`: queue every grant's and support request's current state."""

from __future__ import annotations

from sqlalchemy.orm import Session

from iris.settings import Settings
from iris.store import in_one_transaction
from services.access import service, support
from services.access.repository import SqlAccessRepository


def _everything(session: Session) -> int:
    return service.republish(SqlAccessRepository(session)) + support.republish(session)


def republish(settings: Settings) -> int:
    return in_one_transaction("access", settings, _everything)
