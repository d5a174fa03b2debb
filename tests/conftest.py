from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from iris.infra import TANSU_FETCH_MAX_WAIT_MS
from iris.kafka import ensure_topics
from iris.settings import Settings
from tests.infra import Infrastructure, infrastructure
from tests.platforms import GroupScheduling, Platforms, last_users, together
from tests.support import Issuer

TEST_PARTITIONS = 3
LAST_USERS = pytest.StashKey[dict[str, str]]()
SHARED = pytest.StashKey[Platforms]()
ARTIFACTS = Path(os.environ.get("IRIS_TEST_ARTIFACTS", "test-artifacts")).resolve()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infrastructure]:
    with infrastructure(tmp_path_factory.mktemp("infra")) as found:
        print(f"\ninfrastructure: {found.origin}")
        settings = Settings(kafka_bootstrap=found.kafka_bootstrap, topic_partitions=TEST_PARTITIONS)
        asyncio.run(ensure_topics(settings))
        yield found


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `--dist loadscope`, the scopes are the groups of tests/platforms.py."""
    if config.getvalue("dist") == "loadscope":
        return GroupScheduling(config, log)
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items[:] = together(items)
    config.stash[LAST_USERS] = last_users(items)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    shared = item.config.stash.get(SHARED, None)
    if shared is not None:
        shared.finished(item)


@pytest.fixture(scope="session")
def platforms(
    request: pytest.FixtureRequest, infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platforms]:
    """`iris dev` and `iris stage`, each started once for the tests that run on them."""
    shared = Platforms(infra, tmp_path_factory)
    shared.last_user = request.config.stash.get(LAST_USERS, {})
    request.config.stash[SHARED] = shared
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    return Issuer(tmp_path_factory.mktemp("issuer"))


@pytest.fixture
def make_settings(infra: Infrastructure, issuer: Issuer, tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a service under test: the test infrastructure, a fresh database at the
    service's newest migration (empty with `migrated=False`)."""

    def build(service: str, migrated: bool = True, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "env": "test",
            "data_dir": tmp_path / "data",
            "kafka_bootstrap": infra.kafka_bootstrap,
            "redis_url": infra.redis_url,
            "database_url": infra.database_url(service, migrated),
            "oidc_issuer": issuer.issuer,
            "oidc_jwks_url": issuer.jwks_url,
            "client_issuer": None,
            "outbox_poll_seconds": 0.2,
            "kafka_fetch_max_wait_ms": TANSU_FETCH_MAX_WAIT_MS,
            "topic_partitions": TEST_PARTITIONS,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return build


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process the same settings."""
    env = {
        "IRIS_ENV": settings.env,
        "IRIS_DATA_DIR": str(settings.data_dir),
        "IRIS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "IRIS_KAFKA_IDEMPOTENCE": str(settings.kafka_idempotence).lower(),
        "IRIS_KAFKA_FETCH_MAX_WAIT_MS": str(settings.kafka_fetch_max_wait_ms),
        "IRIS_REDIS_URL": settings.redis_url,
        "IRIS_OIDC_ISSUER": settings.oidc_issuer,
        "IRIS_OIDC_JWKS_URL": settings.oidc_jwks_url or "",
        "IRIS_CLIENT_ISSUER": settings.client_issuer or "",
        "IRIS_LOG_LEVEL": "INFO",
    }
    if settings.database_url:
        env["IRIS_DATABASE_URL"] = settings.database_url
    if settings.topic_partitions:
        env["IRIS_TOPIC_PARTITIONS"] = str(settings.topic_partitions)
    return env
