"""The whole platform running as `iris dev` runs it on the test infrastructure, and as
`iris stage` runs it on its production engines: every test here runs on both."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.infra import Infrastructure
from tests.stacks import RunningStack, dev_stack, stage_stack


@pytest.fixture(scope="package", params=["dev", "stage"])
def running(
    request: pytest.FixtureRequest, infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStack]:
    data_dir = tmp_path_factory.mktemp(request.param)
    if request.param == "dev":
        stack = dev_stack(infra, data_dir)
    else:
        stack = stage_stack(infra.database_server, data_dir)
    try:
        stack.start()
        yield RunningStack(stack, stack.settings())
    finally:
        stack.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client
