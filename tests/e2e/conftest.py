"""The whole platform running as `iris dev` runs it on the test infrastructure, and as
`iris stage` runs it on its production engines: every test here runs on both."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.platforms import KINDS, Platforms
from tests.stacks import RunningStack


@pytest.fixture(scope="package", params=KINDS)
def running(request: pytest.FixtureRequest, platforms: Platforms) -> RunningStack:
    stack = platforms.get(request.param)
    return RunningStack(stack, stack.settings())


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
