"""`POST /v1/token` under attack: each attempt costs an scrypt, so attempts are limited per
source address, and failed ones lock the client id and the source out for a while."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from iris.settings import Settings
from services.access.api import create_app
from tests.access.conftest import Clock, access_settings, school_id
from tests.support import Issuer


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return access_settings(
        make_settings,
        token_attempts_per_minute=6,
        token_failures_before_lockout=3,
        token_lockout_seconds=300,
    )


@contextmanager
def two_addresses(
    settings: Settings, first: str, second: str
) -> Iterator[tuple[TestClient, TestClient]]:
    """The access service, and a client for each of two source addresses."""
    app = create_app(settings, clock=Clock())
    with TestClient(app, client=(first, 40000)) as one:
        yield one, TestClient(app, client=(second, 40000))


def register(client: TestClient, issuer: Issuer) -> tuple[str, str]:
    school = school_id()
    responsible = issuer.headers("70010100095", school_admin_of=[school])
    made = client.post(f"/v1/schools/{school}/clients", json={"name": "admin"}, headers=responsible)
    assert made.status_code == 201, made.text
    return made.json()["client_id"], made.json()["client_secret"]


def ask(client: TestClient, client_id: str, secret: str) -> Any:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return client.post("/v1/token", data=form)


def test_failed_attempts_lock_the_client_id_out_from_any_address(settings, issuer):
    with two_addresses(settings, "192.0.2.1", "192.0.2.2") as (attacker, school):
        client_id, secret = register(attacker, issuer)
        for _ in range(3):
            assert ask(attacker, client_id, "guess").status_code == 401
        locked = ask(school, client_id, secret)  # even with the right secret
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 300
        assert locked.json()["error"] == "slow_down"


def test_failed_attempts_lock_the_source_out_for_every_client_id(settings, issuer):
    with two_addresses(settings, "192.0.2.3", "192.0.2.4") as (attacker, school):
        first, _ = register(attacker, issuer)
        second, second_secret = register(attacker, issuer)
        third, third_secret = register(attacker, issuer)
        assert ask(attacker, first, "guess").status_code == 401
        assert ask(attacker, second, "guess").status_code == 401
        assert ask(attacker, "no-such-client", "guess").status_code == 401
        assert ask(attacker, third, third_secret).status_code == 429
        assert ask(school, second, second_secret).status_code == 200


def test_attempts_per_source_are_limited_per_minute(settings, issuer):
    with two_addresses(settings, "192.0.2.5", "192.0.2.6") as (busy, other):
        client_id, secret = register(busy, issuer)
        assert [ask(busy, client_id, secret).status_code for _ in range(6)] == [200] * 6
        limited = ask(busy, client_id, secret)
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= 60
        assert ask(other, client_id, secret).status_code == 200
