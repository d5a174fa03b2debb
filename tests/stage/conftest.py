"""The session's `iris stage`, with the PostgreSQL server of its own that the fault tests
stop; they are its last users, so what they break breaks no other test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from iris.infra import LocalPostgres
from tests.platforms import Platforms
from tests.stacks import RunningStack


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


@pytest.fixture(scope="package", params=["stage"])
def staged(request: pytest.FixtureRequest, platforms: Platforms) -> Staged:
    """The session's `iris stage` (tests/platforms.py), on its own PostgreSQL server."""
    stack = platforms.get(request.param)
    return Staged(stack, stack.settings(), platforms.postgres)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
