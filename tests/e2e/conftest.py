"""The whole platform running as `iris dev` runs it, on the test infrastructure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from iris import infra as local
from iris.auth import dev_issuer_key, mint
from iris.dev import Stack
from iris.registry import available
from iris.settings import Settings
from tests.infra import Infrastructure


@dataclass
class RunningStack:
    stack: Stack
    settings: Settings

    @property
    def urls(self) -> dict[str, str]:
        return self.stack.urls

    def token(self, subject: str, **claims: Any) -> str:
        """A token from the development issuer; a person signed in with itsme."""
        if not {"school_id", "support_network", "service"} & claims.keys():
            claims.setdefault("amr", ["itsme"])
        key = dev_issuer_key(self.settings)
        return mint(key, self.settings.oidc_issuer, subject, self.settings.audience, **claims)

    def headers(self, subject: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, **claims)}"}

    def log_files(self) -> list[Path]:
        return sorted(self.stack.log_dir.glob("*.log"))


def sibling_redis_database(url: str, index: int) -> str:
    """The same Redis server, another database index (the e2e stack's own keyspace)."""
    return re.sub(r"/\d+$", "", url.rstrip("/")) + f"/{index}"


@pytest.fixture(scope="package")
def running(
    infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    data_dir = tmp_path_factory.mktemp("stack")
    env: dict[str, str] = {
        "IRIS_ENV": "test",
        "IRIS_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "IRIS_REDIS_URL": sibling_redis_database(infra.redis_url, 11),
        "IRIS_TOPIC_PARTITIONS": "3",
        "IRIS_LOG_LEVEL": "INFO",
        "IRIS_OUTBOX_POLL_SECONDS": "0.05",
        "IRIS_ACCESS_EXPIRY_PERIOD_SECONDS": "1",
    }
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")} | env
    for spec in available():
        env[f"IRIS_{spec.name.upper()}_PORT"] = str(local.free_port())
        env[f"IRIS_{spec.name.upper()}_DATABASE_URL"] = infra.database_url(spec.name)
        if spec.has_worker:
            env[f"IRIS_{spec.name.upper()}_WORKER_METRICS_PORT"] = str(local.free_port())
    env["IRIS_ISSUER_PORT"] = str(local.free_port())
    import redis

    redis.Redis.from_url(env["IRIS_REDIS_URL"]).flushdb()
    stack = Stack(data_dir, env=env, say=lambda _line: None)
    try:
        stack.start()
        yield RunningStack(stack, stack.settings())
    finally:
        stack.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
