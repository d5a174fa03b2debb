"""The viewer as a service client of the access service: registered by an operator with
`iris clients`, it gets its token for the reports service's internal API by client
credentials and renews it before it expires."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest

from iris.auth import AuthError, verifier_for
from iris.settings import Settings
from services.access.api import create_app
from services.viewer.reports_token import RENEW_AFTER, ServiceToken, TokenUnavailable
from tests.access.conftest import Clock, Served, access_settings, free_port, serve, stop
from tests.conftest import settings_env


@dataclass
class Running:
    settings: Settings
    served: Served

    def iris_clients(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`iris clients …` as an operator runs it, against the access service's database."""
        return subprocess.run(
            [sys.executable, "-m", "iris.cli", "clients", *args],
            env={**os.environ, **settings_env(self.settings)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def register_viewer(self) -> tuple[str, str]:
        added = self.iris_clients("add", "--service", "viewer")
        assert added.returncode == 0, added.stderr
        printed = dict(line.split("=", 1) for line in added.stdout.splitlines())
        return printed["IRIS_SERVICE_CLIENT_ID"], printed["IRIS_SERVICE_CLIENT_SECRET"]


@pytest.fixture
def running(make_settings: Callable[..., Settings]) -> Iterator[Running]:
    port = free_port()
    settings = access_settings(
        make_settings, client_issuer=f"http://127.0.0.1:{port}", access_client_token_ttl_seconds=60
    )
    served = serve(create_app(settings, clock=Clock()), port)
    try:
        yield Running(settings, served)
    finally:
        stop(served)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def viewer_settings(running: Running, client_id: str, secret: str, tmp_path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        client_issuer=running.served.url,
        service_client_id=client_id,
        service_client_secret=secret,
    )


async def test_the_viewer_gets_a_token_the_reports_internal_api_accepts_and_nothing_else(
    running: Running, tmp_path
):
    client_id, secret = running.register_viewer()
    token = await ServiceToken(viewer_settings(running, client_id, secret, tmp_path))()

    reports = Settings(env="test", data_dir=tmp_path, client_issuer=running.served.url)
    internal = verifier_for(reports, reports.internal_audience).verify(token)
    assert (internal.subject, internal.service) == ("service:viewer", "viewer")
    assert not internal.is_person
    with pytest.raises(AuthError, match="not meant for this service"):
        verifier_for(reports).verify(token)  # the public APIs' audience


async def test_the_token_is_kept_renewed_before_it_expires_and_fetched_anew_when_refused(
    running: Running, tmp_path
):
    client_id, secret = running.register_viewer()
    ticks = Ticks()
    async with httpx.AsyncClient() as http:
        tokens = ServiceToken(viewer_settings(running, client_id, secret, tmp_path), http, ticks)
        first = await tokens()
        lifetime = jwt.decode(first, options={"verify_signature": False})
        ttl = lifetime["exp"] - lifetime["iat"]
        assert ttl == 60
        ticks.now += ttl * RENEW_AFTER - 1
        assert await tokens() == first, "a fresh token is reused"
        ticks.now += 2
        second = await tokens()
        assert second != first, "renewed once three quarters of its life have passed"
        claims = jwt.decode(second, options={"verify_signature": False})
        assert claims["exp"] > lifetime["exp"] - 5
        tokens.forget()
        assert await tokens() not in (first, second)


async def test_a_revoked_or_wrong_secret_gets_no_token(running: Running, tmp_path):
    client_id, secret = running.register_viewer()
    wrong = ServiceToken(viewer_settings(running, client_id, secret + "x", tmp_path))
    with pytest.raises(TokenUnavailable, match="401 invalid_client"):
        await wrong()
    listed = running.iris_clients("list")
    assert client_id in listed.stdout and "active" in listed.stdout
    assert secret not in listed.stdout
    revoked = running.iris_clients("revoke", client_id)
    assert revoked.returncode == 0, revoked.stderr
    after = ServiceToken(viewer_settings(running, client_id, secret, tmp_path))
    with pytest.raises(TokenUnavailable, match="401 invalid_client"):
        await after()


def test_only_the_services_that_call_internal_apis_can_be_registered(running: Running):
    refused = running.iris_clients("add", "--service", "enrolment")
    assert refused.returncode == 2
    assert "service: one of viewer" in refused.stderr
