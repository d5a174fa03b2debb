"""The running platform for end-to-end and fault tests: `iris dev` on the test
infrastructure, or `iris stage` on its production engines."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from iris import apache_kafka, stage
from iris import infra as local
from iris.auth import dev_issuer_key, mint
from iris.dev import Stack
from iris.registry import available
from iris.settings import Settings
from iris.stage import Stage
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

    def kafka(self, principal: str = "admin") -> dict[str, Any]:
        """kafka-python connection settings; on `iris stage`, as that SASL user."""
        return stage.connection_options_as(principal, self.stack, self.settings)

    def log_files(self) -> list[Path]:
        return sorted(self.stack.log_dir.glob("*.log"))


def sibling_redis_database(url: str, index: int) -> str:
    """The same Redis server, another database index (the e2e stack's own keyspace)."""
    return re.sub(r"/\d+$", "", url.rstrip("/")) + f"/{index}"


def free_ports_env(replicas: int) -> dict[str, str]:
    """Free ports for every API, worker and issuer of a stack with `replicas` copies."""
    env: dict[str, str] = {"IRIS_ISSUER_PORT": str(local.free_port())}
    for spec in available():
        for replica in range(1, replicas + 1):
            name = spec.name.upper() + ("" if replica == 1 else f"_{replica}")
            env[f"IRIS_{name}_PORT"] = str(local.free_port())
            if spec.has_worker:
                env[f"IRIS_{name}_WORKER_METRICS_PORT"] = str(local.free_port())
    return env


def dev_stack(infra: Infrastructure, data_dir: Path) -> Stack:
    """`iris dev` on the test infrastructure (its broker, Redis and databases)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")} | {
        "IRIS_ENV": "test",
        "IRIS_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "IRIS_REDIS_URL": sibling_redis_database(infra.redis_url, 11),
        "IRIS_TOPIC_PARTITIONS": "3",
        "IRIS_KAFKA_FETCH_MAX_WAIT_MS": str(local.TANSU_FETCH_MAX_WAIT_MS),
        **COMMON,
        **free_ports_env(1),
    }
    for spec in available():  # empty: the stack migrates them as `iris dev` does
        url = infra.database_url(spec.name, migrated=False)
        env[f"IRIS_{spec.name.upper()}_DATABASE_URL"] = url
    redis.Redis.from_url(env["IRIS_REDIS_URL"]).flushdb()
    return Stack(data_dir, env=env, say=lambda _line: None)


def stage_stack(database_server: str | None, data_dir: Path) -> Stage:
    """`iris stage`: three Apache Kafka brokers with ACLs, PostgreSQL, two of everything."""
    if not apache_kafka.installed():
        pytest.skip("Apache Kafka is not installed (scripts/kafka-broker.sh)")
    if database_server is None:
        pytest.skip("iris stage needs a PostgreSQL server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")} | {
        "IRIS_DATABASE_URL": database_server,
        "IRIS_BROKER_PORTS": ",".join(str(local.free_port()) for _ in range(stage.BROKERS)),
        "IRIS_REDIS_PORTS": ",".join(str(p) for p in local.free_cluster_ports(6)),
        **COMMON,
        **free_ports_env(stage.REPLICAS),
    }
    return Stage(data_dir, env=env, say=lambda _line: None)


COMMON = {
    "IRIS_LOG_LEVEL": "INFO",
    "IRIS_OUTBOX_POLL_SECONDS": "0.2",
    "IRIS_ACCESS_EXPIRY_PERIOD_SECONDS": "1",
}
