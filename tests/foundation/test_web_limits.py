"""What every service's HTTP side refuses or keeps to itself, whatever the route: bodies
over the size limit (413) and the internals of a failing readiness check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.access.api import create_app as access_app
from services.enrolment.api import create_app as enrolment_app
from services.reports.api import create_app as reports_app
from services.viewer.api import create_app as viewer_app

SERVICES = {
    "enrolment": (enrolment_app, "/v1/enrolments"),
    "reports": (reports_app, "/v1/pupils/85073003328/reports"),
    "access": (access_app, "/v1/schools/100001/grants"),
    "viewer": (viewer_app, "/auth/logout"),
}


@pytest.fixture(params=sorted(SERVICES))
def service(request, make_settings) -> Iterator[tuple[TestClient, str]]:
    create, path = SERVICES[request.param]
    settings = make_settings(request.param, max_body_bytes=64 * 1024)
    yield TestClient(create(settings)), path


def test_a_body_over_the_limit_is_refused_with_413(service):
    client, path = service
    answer = client.post(path, content=b"x" * (64 * 1024 + 1))
    assert answer.status_code == 413
    assert "body" in answer.json()["detail"]


def test_a_chunked_body_over_the_limit_is_refused_with_413(service):
    client, path = service

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 8192

    answer = client.post(path, content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_a_body_within_the_limit_reaches_the_route(service):
    client, path = service
    answer = client.post(path, content=b"{}", headers={"Content-Type": "application/json"})
    assert answer.status_code not in (413, 500)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_readyz_names_the_failing_part_but_not_its_host_user_or_error(make_settings, name):
    create, _path = SERVICES[name]
    refused = "postgresql://iris_secret_user:wrong@127.0.0.1:1/iris_secret_db"
    settings = make_settings(name, database_url=refused, redis_url="redis://127.0.0.1:1/0")
    answer = TestClient(create(settings)).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["problems"]["database"] == "unavailable"
    for secret in ("iris_secret_user", "iris_secret_db", "127.0.0.1", "Error", "refused"):
        assert secret not in answer.text
