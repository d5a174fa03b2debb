from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from iris.db import make_engine, make_sessionmaker, transaction
from iris.outbox import TOMBSTONE
from iris.retention import Periods, purge_once
from iris.settings import Settings

SERVICES = Path(__file__).resolve().parents[2] / "services"


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


@dataclass
class Database:
    service: str
    settings: Settings
    sessions: sessionmaker[Session]

    @property
    def periods(self) -> Periods:
        return Periods.of(self.settings)

    def add(self, *rows: Any) -> None:
        with transaction(self.sessions) as session:
            session.add_all(rows)

    def purge(self, now: datetime) -> dict[str, int]:
        return purge_once(self.service, self.sessions, self.periods, now, batch_size=2)

    def count(self, model: Any, *where: Any) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def tombstones(self, outbox: Any) -> list[tuple[str, str]]:
        with self.sessions() as session:
            rows = session.execute(
                select(outbox.topic, outbox.key).where(outbox.event_type == TOMBSTONE)
            )
            return sorted((r.topic, r.key) for r in rows)


@pytest.fixture
def database(make_settings: Callable[..., Settings]) -> Callable[[str], Database]:
    engines = []

    def open_database(service: str) -> Database:
        settings = make_settings(service)
        engine = make_engine(settings.database_url_for(service))
        engines.append(engine)
        return Database(service, settings, make_sessionmaker(engine))

    yield open_database  # type: ignore[misc]
    for engine in engines:
        engine.dispose()


def days(n: int) -> timedelta:
    return timedelta(days=n)
