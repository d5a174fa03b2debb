"""`iris stage` with a PostgreSQL server of its own, which the fault tests may stop."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from iris import infra as local
from iris.infra import LocalPostgres
from tests.stacks import RunningStack, stage_stack


@dataclass
class Staged(RunningStack):
    postgres: LocalPostgres | None = None

    def replicas(self, service: str) -> list[str]:
        """The URLs of a service's API replicas."""
        return [
            url
            for name, url in self.urls.items()
            if name == service or (name.startswith(f"{service}-") and "worker" not in name)
        ]


@pytest.fixture(scope="package")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staged]:
    if local.postgres_bin() is None:
        pytest.skip("PostgreSQL's server is not installed")
    # its own folder under /tmp: the server runs as `postgres`, who cannot enter pytest's
    postgres = local.start_postgres(local.free_port(), Path(tempfile.mkdtemp(prefix="iris-pg-")))
    stack = stage_stack(postgres.url, tmp_path_factory.mktemp("stage"))
    try:
        stack.start()
        yield Staged(stack, stack.settings(), postgres)
    finally:
        stack.stop()
        postgres.stop()
        shutil.rmtree(postgres.directory, ignore_errors=True)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
