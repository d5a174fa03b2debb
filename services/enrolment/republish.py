"""`iris republish enrolment`: queue every enrolment's current state for publishing."""

from __future__ import annotations

from iris.settings import Settings
from iris.store import in_one_transaction
from services.enrolment import service
from services.enrolment.repository import SqlEnrolmentRepository


def republish(settings: Settings) -> int:
    return in_one_transaction(
        "enrolment", settings, lambda session: service.republish(SqlEnrolmentRepository(session))
    )
