"""Support networks' software (DIPLOM and the like) as clients of the access service:
registered by an operator (`iris clients add --support-network N`) or a platform admin
over HTTP, credentials shown once, revocable; its tokens name the network and may file
access requests at schools and handle the network's support requests, nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest

from iris.insz import make_insz
from iris.settings import Settings
from services.access.api import create_app
from tests.access.conftest import Clock, Served, access_settings, free_port, serve, stop
from tests.conftest import settings_env
from tests.support import Issuer

NETWORK = "ondersteuningsnetwerk-test"
ADMIN = make_insz("1969-09-09", 77)
WORKER = make_insz("1990-04-08", 78)
PUPIL = make_insz("2015-07-11", 79)
SCHOOL = "410001"


@dataclass
class Running:
    settings: Settings
    served: Served
    issuer: Issuer

    @property
    def url(self) -> str:
        return self.served.url

    def iris_clients(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`iris clients …` as an operator runs it, against the access service's database."""
        return subprocess.run(
            [sys.executable, "-m", "iris.cli", "clients", *args],
            env={**os.environ, **settings_env(self.settings)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def token(self, client_id: str, secret: str) -> httpx.Response:
        form = {"grant_type": "client_credentials", "client_id": client_id}
        return httpx.post(f"{self.url}/v1/token", data={**form, "client_secret": secret})

    def network_headers(self, client_id: str, secret: str) -> dict[str, str]:
        answer = self.token(client_id, secret)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def running(make_settings: Callable[..., Settings], issuer: Issuer) -> Iterator[Running]:
    port = free_port()
    settings = access_settings(
        make_settings, client_issuer=f"http://127.0.0.1:{port}", platform_admins=[ADMIN]
    )
    served = serve(create_app(settings, clock=Clock()), port)
    try:
        yield Running(settings, served, issuer)
    finally:
        stop(served)


def added_by_operator(running: Running) -> tuple[str, str]:
    added = running.iris_clients("add", "--support-network", NETWORK)
    assert added.returncode == 0, added.stderr
    printed = dict(line.split("=", 1) for line in added.stdout.splitlines())
    return printed["client_id"], printed["client_secret"]


def test_an_operator_s_network_client_gets_tokens_naming_the_network_and_handles_its_requests(
    running: Running,
):
    client_id, secret = added_by_operator(running)
    answer = running.token(client_id, secret)
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["support_network"] == NETWORK
    assert claims["sub"] == f"network:{NETWORK}" and claims["aud"] == "iris"
    assert "school_id" not in claims and "service" not in claims
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    listed = httpx.get(
        f"{running.url}/v1/support-networks/{NETWORK}/support-requests", headers=headers
    )
    assert listed.status_code == 200 and listed.json() == []
    filed = httpx.post(
        f"{running.url}/v1/schools/{SCHOOL}/access-requests",
        json={
            "person_id": WORKER,
            "pupil_ids": [PUPIL],
            "support_network": NETWORK,
            "motivation": "Ondersteuning op vraag van de ouders.",
        },
        headers=headers,
    )
    assert filed.status_code == 201, filed.text
    followed = httpx.get(
        f"{running.url}/v1/access-requests/{filed.json()['request_id']}", headers=headers
    )
    assert followed.status_code == 200 and followed.json()["status"] == "pending"
    listing = running.iris_clients("list", "--support-network", NETWORK)
    assert client_id in listing.stdout and secret not in listing.stdout


def refusals(running: Running) -> list[tuple[str, str, dict[str, Any] | None]]:
    """What a network's software may not do: everything but its requests."""
    grant = {"person_id": WORKER, "role": "support_worker", "valid_from": "2026-09-01"}
    request = {
        "person_id": WORKER,
        "pupil_ids": [PUPIL],
        "support_network": "another-network",
        "motivation": "m",
    }
    return [
        ("GET", f"/v1/schools/{SCHOOL}/grants", None),
        ("POST", f"/v1/schools/{SCHOOL}/grants", grant),
        ("GET", f"/v1/schools/{SCHOOL}/access-requests", None),
        ("POST", f"/v1/schools/{SCHOOL}/access-requests", request),
        ("GET", f"/v1/schools/{SCHOOL}/clients", None),
        ("POST", f"/v1/schools/{SCHOOL}/clients", {"name": "x"}),
        ("GET", f"/v1/schools/{SCHOOL}/audit", None),
        ("GET", f"/v1/schools/{SCHOOL}/support-requests", None),
        (
            "POST",
            f"/v1/schools/{SCHOOL}/support-requests",
            {"pupil_id": PUPIL, "support_network": NETWORK, "question": "q"},
        ),
        ("GET", "/v1/support-networks/another-network/support-requests", None),
        ("POST", f"/v1/schools/{SCHOOL}/launch-tickets", {"pupil_id": PUPIL}),
        ("GET", f"/v1/support-networks/{NETWORK}/clients", None),
        ("POST", f"/v1/support-networks/{NETWORK}/clients", None),
        ("GET", "/v1/clbs/113001/pupils?name=Peeters", None),
    ]


def test_a_network_s_token_is_refused_everywhere_else(running: Running):
    headers = running.network_headers(*added_by_operator(running))
    for method, path, body in refusals(running):
        answer = httpx.request(method, running.url + path, json=body, headers=headers)
        assert answer.status_code == 403, f"{method} {path}: {answer.status_code} {answer.text}"
    internal = httpx.get(f"{running.url}/internal/schools/{SCHOOL}/frame-origins", headers=headers)
    assert internal.status_code == 401  # not a token for the internal audience


def test_a_platform_admin_registers_lists_and_revokes_a_network_client_over_http(
    running: Running,
):
    admin = running.issuer.headers(ADMIN)
    base = f"{running.url}/v1/support-networks/{NETWORK}/clients"
    created = httpx.post(base, headers=admin)
    assert created.status_code == 201, created.text
    client_id, secret = created.json()["client_id"], created.json()["client_secret"]
    assert created.json()["support_network"] == NETWORK
    listed = httpx.get(base, headers=admin).json()
    assert [c["client_id"] for c in listed] == [client_id]
    assert "client_secret" not in listed[0]
    assert running.token(client_id, secret).status_code == 200

    someone = running.issuer.headers(WORKER)
    assert httpx.post(base, headers=someone).status_code == 403
    elsewhere = httpx.post(
        f"{running.url}/v1/support-networks/another-network/clients/{client_id}/revoke",
        headers=admin,
    )
    assert elsewhere.status_code == 404
    revoked = httpx.post(f"{base}/{client_id}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert running.token(client_id, secret).status_code == 401


def test_an_operator_revokes_a_network_client(running: Running):
    client_id, secret = added_by_operator(running)
    revoked = running.iris_clients("revoke", client_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert running.token(client_id, secret).status_code == 401
