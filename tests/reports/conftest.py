from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from iris.contracts import REPORT_CHANGES
from iris.insz import make_insz
from iris.kafka import ensure_topics
from iris.settings import Settings
from services.reports.api import create_app
from services.reports.models import Outbox, ReportContent, ReportHead, ReportRow
from tests.support import Issuer, Message, ServiceTopic

CLB = "105262"
OTHER_CLB = "105270"
STAFF = make_insz("1980-04-12", 17)
OTHER_STAFF = make_insz("1975-02-03", 21)
TODAY = date(2026, 11, 28)

_used: set[str] = set()


def new_pupil() -> str:
    """A pupil no other test uses (the topic outlives a test, and maybe the test run)."""
    while True:
        birth = date(2010, 1, 1) + timedelta(days=random.randrange(9 * 365))
        pupil = make_insz(birth.isoformat(), random.randint(1, 997))
        if pupil not in _used:
            _used.add(pupil)
            return pupil


class Clock:
    """Today's date for the service, moved by the test instead of by sleeping."""

    def __init__(self, today: date) -> None:
        self.today = today

    def __call__(self) -> date:
        return self.today

    def move_to(self, day: date) -> None:
        self.today = day

    def advance(self, days: int) -> None:
        self.today += timedelta(days=days)


def report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "IAC",
        "clb_id": CLB,
        "valid_from": "2026-09-01",
        "type": "9",
        "level": "primary",
        "content": {
            "needs": "Nood aan voorspelbaarheid en een prikkelarme plek.",
            "advice": "Werk met een visueel dagschema.",
            "measures_taken": "Time-timer en koptelefoon; onvoldoende in drukke lessen.",
            "reasoning": "Diagnose ASS; de aanpassingen volstaan niet.",
        },
    }
    body.update(overrides)
    return body


@dataclass
class Reports:
    """The reports API in-process, with its clock, settings and a reader of its topic."""

    client: TestClient
    clock: Clock
    settings: Settings
    issuer: Issuer
    reader: ServiceTopic

    def staff(self, *clbs: str, sub: str = STAFF) -> dict[str, str]:
        return self.issuer.headers(sub, clb_staff_of=list(clbs or (CLB,)))

    def viewer(self) -> dict[str, str]:
        return self.issuer.service("viewer")

    def issue(self, pupil: str, **overrides: Any) -> dict[str, Any]:
        answer = self.client.post(
            f"/v1/pupils/{pupil}/reports", json=report_body(**overrides), headers=self.staff()
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def withdraw(self, report_id: str) -> dict[str, Any]:
        answer = self.client.post(f"/v1/reports/{report_id}/withdraw", headers=self.staff())
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def history(self, pupil: str) -> list[dict[str, Any]]:
        answer = self.client.get(f"/v1/pupils/{pupil}/reports", headers=self.staff())
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    def current_version(self, pupil: str) -> int | None:
        current = [v["version"] for v in self.history(pupil) if v["current"]]
        assert len(current) <= 1
        return current[0] if current else None

    def content_status(self, report_id: str) -> int:
        return self.client.get(f"/internal/reports/{report_id}", headers=self.viewer()).status_code

    def events_of(self, pupil: str, count: int) -> list[dict[str, Any]]:
        """The pupil's events on the topic, once at least `count` have arrived."""

        def mine(messages: list[Message]) -> list[Message]:
            return [m for m in messages if m.pupil == pupil]

        self.reader.read_until(
            lambda messages: len(mine(messages)) >= count, message=f"{count} events of a pupil"
        )
        return [m.value for m in mine(self.reader.messages)]

    def counts(self) -> dict[str, int]:
        with self.client.app.state.sessions() as session:  # type: ignore[attr-defined]
            return {
                table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
                for table in (ReportRow, ReportContent, ReportHead, Outbox)
            }


@pytest.fixture
def reports_settings(make_settings: Callable[..., Settings]) -> Settings:
    settings = make_settings("reports")
    asyncio.run(ensure_topics(settings))
    return settings


@pytest.fixture
def reports(reports_settings: Settings, issuer: Issuer) -> Iterator[Reports]:
    clock = Clock(TODAY)
    reader = ServiceTopic(reports_settings, "reports", REPORT_CHANGES.name)
    try:
        with TestClient(create_app(reports_settings, clock=clock)) as client:
            yield Reports(client, clock, reports_settings, issuer, reader)
    finally:
        reader.close()
