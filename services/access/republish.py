"""`iris republish access`: queue every grant's current state for publishing."""

from __future__ import annotations

from iris.db import make_engine, make_sessionmaker, transaction
from iris.settings import Settings
from services.access import service


def republish(settings: Settings) -> int:
    engine = make_engine(settings.database_url_for("access"))
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return service.republish(session)
    finally:
        engine.dispose()
