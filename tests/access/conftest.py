from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient

from iris.contracts import ACCESS_GRANTS
from iris.insz import make_insz
from iris.kafka import ensure_topics
from iris.settings import Settings
from services.access.api import create_app
from services.access.bootstrap import AccessDeps, bootstrap
from tests.access.mail import Inbox
from tests.support import Issuer, Message, ServiceTopic, wait_until

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "access" / "migrations"
TODAY = date(2026, 11, 28)


class Clock:
    """The access service's clock, moved by the test."""

    def __init__(self, today: date = TODAY) -> None:
        self.now = datetime.combine(today, time(10, 0), tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    @property
    def today(self) -> date:
        return self.now.date()

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


def school_id() -> str:
    """A school of its own for each test: the topic and the broker are shared."""
    return str(random.randint(10**8, 10**9 - 1))


def person(serial: int, birth: str = "1985-03-15") -> str:
    return make_insz(birth, serial)


def pupil(serial: int) -> str:
    return make_insz("2014-05-06", serial)


@dataclass
class Access:
    client: TestClient
    settings: Settings
    clock: Clock
    issuer: Issuer
    deps: AccessDeps

    responsible_id = make_insz("1970-01-01", 900)

    def responsible(self, school: str, sub: str | None = None) -> dict[str, str]:
        return self.issuer.headers(sub or self.responsible_id, school_admin_of=[school])

    def network(self, name: str, sub: str = "network-desk") -> dict[str, str]:
        return self.issuer.headers(sub, support_network=name)

    def grant(self, school: str, **body: Any) -> Any:
        return self.client.post(
            f"/v1/schools/{school}/grants", json=body, headers=self.responsible(school)
        )

    def grants(self, school: str, **params: str) -> list[dict[str, Any]]:
        answer = self.client.get(
            f"/v1/schools/{school}/grants", params=params, headers=self.responsible(school)
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    def audit(self, school: str) -> list[dict[str, Any]]:
        answer = self.client.get(f"/v1/schools/{school}/audit", headers=self.responsible(school))
        assert answer.status_code == 200, answer.text
        return list(answer.json())


def access_settings(make_settings: Callable[..., Settings], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "access_expiry_period_seconds": 0.1,
        "client_issuer": "http://access.test",
    }
    values.update(overrides)
    settings = make_settings("access", **values)
    asyncio.run(ensure_topics(settings))
    return settings


@pytest.fixture
def access(make_settings: Callable[..., Settings], issuer: Issuer) -> Iterator[Access]:
    settings = access_settings(make_settings)
    clock = Clock()
    deps = bootstrap(settings, clock)
    with TestClient(create_app(deps=deps)) as client:
        yield Access(client, settings, clock, issuer, deps)


@pytest.fixture
def grants_topic(access: Access) -> Iterator[ServiceTopic]:
    reader = ServiceTopic(access.settings, "access", ACCESS_GRANTS.name)
    yield reader
    reader.close()


def of_school(messages: list[Message], school: str) -> list[dict[str, Any]]:
    return [m.value for m in messages if m.key and m.key.startswith(f"{school}:")]


def published(reader: ServiceTopic, school: str, count: int) -> list[dict[str, Any]]:
    """The school's events once `count` have arrived and the outbox has sent everything."""
    reader.read_until(lambda ms: len(of_school(ms, school)) >= count, message=f"{count} events")
    return of_school(reader.settled(), school)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    server: uvicorn.Server
    thread: threading.Thread


def serve(app: FastAPI, port: int) -> Served:
    """Serve `app` on a real local port from a thread, until `stop`."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, message="the server to start")
    return Served(f"http://127.0.0.1:{port}", server, thread)


def stop(served: Served) -> None:
    served.server.should_exit = True
    served.thread.join(15)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mailing_access(make_settings, issuer, smtp) -> Iterator[Access]:
    settings = access_settings(
        make_settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        access_url="https://access.test",
        viewer_url="https://viewer.test",
    )
    clock = Clock()
    deps = bootstrap(settings, clock)
    with TestClient(create_app(deps=deps)) as client:
        yield Access(client, settings, clock, issuer, deps)
