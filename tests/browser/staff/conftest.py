"""The whole platform for the staff pages' browser tests: every service, its worker and
the development issuer as `iris dev` and `iris stage` run them, with the demo world of
iris/seed.py in it (shared with the end-to-end tests: tests/platforms.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from iris.dev import Stack
from tests.platforms import KINDS, Platforms
from tests.support import wait_until


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


@pytest.fixture(scope="package", params=KINDS)
def platform(request: pytest.FixtureRequest, platforms: Platforms) -> Platform:
    """The pages on `iris dev` and on `iris stage` (production settings, two replicas),
    with the demo world of iris/seed.py in them."""
    return Platform(platforms.get(request.param))


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
