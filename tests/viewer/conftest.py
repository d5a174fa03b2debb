from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from iris.db import upgrade
from iris.registry import SERVICES
from iris.settings import Settings
from services.viewer.api import create_app
from services.viewer.cache import LIVE_KEY, READY_KEY, AuthCache
from tests.viewer.reports_standin import ReportsStandIn


@pytest.fixture
def reports(issuer) -> Iterator[ReportsStandIn]:
    standin = ReportsStandIn(issuer.issuer, issuer.jwks_url)
    yield standin
    standin.close()


@pytest.fixture
def viewer_settings(make_settings, issuer, reports) -> Settings:
    token = issuer.service("viewer")["Authorization"].removeprefix("Bearer ")
    settings: Settings = make_settings(
        "viewer",
        reports_url=reports.url,
        service_token=token,
        embed_origins=["https://school-software.example"],
    )
    upgrade(SERVICES["viewer"].migrations_dir, settings.database_url_for("viewer"))
    return settings


def mark_ready(client: redis.Redis) -> None:
    """Stand in for a healthy worker: the cache built and a freshness lease of an hour."""
    client.set(READY_KEY, json.dumps({"offsets": {}}))
    client.set(LIVE_KEY, "test", px=3_600_000)


@pytest.fixture
def cache_state(infra) -> Iterator[Callable[..., None]]:
    """Empty the test Redis database, fold events into it and mark the cache ready."""
    client = redis.Redis.from_url(infra.redis_url)
    client.flushdb()

    def fold(*events: Any, ready: bool = True) -> None:
        async def run() -> None:
            cache = AuthCache.from_url(infra.redis_url)
            await cache.fold(list(events))
            await cache.close()

        asyncio.run(run())
        if ready:
            mark_ready(client)

    yield fold
    client.flushdb()
    client.close()


@pytest.fixture
def viewer(viewer_settings) -> Iterator[TestClient]:
    with TestClient(create_app(viewer_settings)) as client:
        yield client
