"""`iris republish viewer`: queue every recorded view for `iris.viewer.audit` again."""

from __future__ import annotations

from iris.db import make_engine, make_sessionmaker, transaction
from iris.settings import Settings
from services.viewer import service


def republish(settings: Settings) -> int:
    engine = make_engine(settings.database_url_for("viewer"))
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return service.republish(session)
    finally:
        engine.dispose()
