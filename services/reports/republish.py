"""`iris republish reports`: queue every report change again, per pupil in order."""

from __future__ import annotations

from iris.db import make_engine, make_sessionmaker, transaction
from iris.settings import Settings
from services.reports import service


def republish(settings: Settings) -> int:
    engine = make_engine(settings.database_url_for("reports"), hide_parameters=True)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return service.republish(session)
    finally:
        engine.dispose()
