"""scim2-tester's checks of RFC 7643/7644 against the access service on a real port, with
a client an operator registered (`iris clients add --scim`) and its token from POST
/v1/token: discovery, creating, reading, searching, replacing, patching and deleting
Users and Groups. None of its checks may fail.

The checker fills attributes with random values unless a model's field gives examples;
IRIS's userName is an INSZ and a group's name says a school and a role, so the checker's
models get valid ones as examples (as a user management would send)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import httpx
import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from iris.insz import make_insz
from iris.settings import Settings
from services.access.api import create_app
from tests.access.conftest import Clock, Served, access_settings, free_port, serve, stop
from tests.conftest import settings_env

SCHOOLS = ("031112", "047597")


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[tuple[Settings, Served]]:
    port = free_port()
    settings = access_settings(make_settings, client_issuer=f"http://127.0.0.1:{port}")
    running = serve(create_app(settings, clock=Clock()), port)
    try:
        yield settings, running
    finally:
        stop(running)


def scim_token(settings: Settings, url: str) -> str:
    """`iris clients add --scim …` as an operator runs it, then the client's token."""
    school_args = itertools.chain.from_iterable(("--school", s) for s in SCHOOLS)
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "iris.cli",
            "clients",
            "add",
            "--scim",
            "idm-conformance",
            *school_args,
        ],
        env={**os.environ, **settings_env(settings)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    printed = dict(line.split("=", 1) for line in added.stdout.splitlines())
    answer = httpx.post(
        f"{url}/v1/token",
        data={"grant_type": "client_credentials"},
        auth=(printed["client_id"], printed["client_secret"]),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def valid_people(count: int) -> list[str]:
    first = date(1960, 1, 1)
    return [
        make_insz((first + timedelta(days=n // 50)).isoformat(), n % 50 + 1) for n in range(count)
    ]


def test_scim2_tester_finds_no_failure(served: tuple[Settings, Served]) -> None:
    settings, running = served
    token = scim_token(settings, running.url)
    http = httpx2.Client(
        base_url=f"{running.url}/scim/v2", headers={"Authorization": f"Bearer {token}"}
    )
    client = SyncSCIMClient(http)
    client.discover()
    user, group = client.get_resource_model("User"), client.get_resource_model("Group")
    assert user is not None and group is not None
    user.model_fields["user_name"].examples = valid_people(20000)
    group.model_fields["display_name"].examples = [
        f"IRIS-platform gebruiker — {role} — {school}"
        for role in ("leraar", "zorgcoördinator", "leerlingbegeleider")
        for school in SCHOOLS
    ]

    results = check_server(client)

    failures = [r for r in results if r.status in (Status.ERROR, Status.CRITICAL)]
    assert failures == []
    succeeded = {(r.resource_type, r.title) for r in results if r.status == Status.SUCCESS}
    for resource_type in ("User", "Group"):
        for check in (
            "object_creation",
            "object_query",
            "search_with_attributes",
            "object_replacement",
            "object_deletion",
            "check_add_attribute",
            "check_remove_attribute",
            "check_replace_attribute",
        ):
            assert (resource_type, check) in succeeded
