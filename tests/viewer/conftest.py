from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redis.cluster
from fastapi.testclient import TestClient

from iris.infra import RedisCluster, free_cluster_ports, start_redis_cluster
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
    return settings


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """A Redis Cluster of three masters and three replicas on free loopback ports."""
    cluster = start_redis_cluster(free_cluster_ports(6), tmp_path_factory.mktemp("cluster"))
    yield cluster
    cluster.stop()


def redis_client(url: str) -> Any:
    """A synchronous client for a test's Redis URL (one node, or `redis+cluster://`)."""
    if url.startswith("redis+cluster://"):
        seed = url.removeprefix("redis+cluster://").split(",")[0].split("/")[0]
        host, port = seed.split(":")
        return redis.cluster.RedisCluster(host=host, port=int(port))
    return redis.Redis.from_url(url)


def flush(client: Any) -> None:
    """Empty the test Redis: the database of one node, every master of a cluster."""
    if isinstance(client, redis.cluster.RedisCluster):
        client.flushdb(target_nodes=redis.cluster.RedisCluster.PRIMARIES)
    else:
        client.flushdb()


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
