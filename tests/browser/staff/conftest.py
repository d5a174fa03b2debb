"""The whole platform for the staff pages' browser tests: every service, its worker and
the development issuer as `iris dev` runs them, on the test infrastructure, with the
demo world of iris/seed.py in it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from iris import infra as local
from iris.dev import Stack
from iris.registry import available
from iris.seed import seed_demo_world
from tests.infra import Infrastructure
from tests.stacks import stage_stack
from tests.support import wait_until

STACK_REDIS_DB = 12


@dataclass
class Platform:
    stack: Stack

    @property
    def access(self) -> str:
        return self.stack.urls["access"]

    @property
    def viewer(self) -> str:
        return self.stack.urls["viewer"]

    @property
    def reports(self) -> str:
        return self.stack.urls["reports"]


def dev_platform(infra: Infrastructure, data_dir: Path) -> Stack:
    redis_url = re.sub(r"/\d+$", "", infra.redis_url.rstrip("/")) + f"/{STACK_REDIS_DB}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")} | {
        "IRIS_ENV": "test",
        "IRIS_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "IRIS_REDIS_URL": redis_url,
        "IRIS_TOPIC_PARTITIONS": "3",
        "IRIS_LOG_LEVEL": "INFO",
        "IRIS_OUTBOX_POLL_SECONDS": "0.05",
    }
    for spec in available():
        env[f"IRIS_{spec.name.upper()}_PORT"] = str(local.free_port())
        env[f"IRIS_{spec.name.upper()}_DATABASE_URL"] = infra.database_url(f"pages_{spec.name}")
        if spec.has_worker:
            env[f"IRIS_{spec.name.upper()}_WORKER_METRICS_PORT"] = str(local.free_port())
    env["IRIS_ISSUER_PORT"] = str(local.free_port())
    redis.Redis.from_url(redis_url).flushdb()
    return Stack(data_dir, env=env, say=lambda _line: None)


@pytest.fixture(scope="package", params=["dev", "stage"])
def platform(
    request: pytest.FixtureRequest, infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """The pages on `iris dev` and on `iris stage` (production settings, two replicas)."""
    data_dir = tmp_path_factory.mktemp(f"platform-{request.param}")
    if request.param == "dev":
        stack = dev_platform(infra, data_dir)
    else:
        stack = stage_stack(infra.database_server, data_dir)
    try:
        stack.start()
        seed_demo_world(stack)
        yield Platform(stack)
    finally:
        stack.stop()


def sign_in_as(page: Any, name: str, dutch: bool = True) -> None:
    """On the development issuer's page, click the person."""
    label = f"Aanmelden als {name}" if dutch else f"Sign in as {name}"
    page.get_by_role("button", name=re.compile(re.escape(label))).click()


def reload_until(page: Any, shows: Callable[[], bool], timeout: float = 20.0) -> None:
    """Reload the page, as a person would, until `shows()` holds (the change has travelled
    from the service that made it through Kafka to the viewer's cache)."""

    def changed() -> bool:
        if shows():
            return True
        page.reload()
        return False

    wait_until(changed, timeout=timeout, interval=0.3, message="the page to show the change")
