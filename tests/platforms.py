"""One running platform of each kind for the whole test session.

Starting `iris stage` (three brokers, a Redis Cluster, two of every service) takes about a
minute on two cores, and the end-to-end and the staff pages' browser tests both need it and
`iris dev`. They share one of each, with the demo world seeded once; each kind stops as soon
as the last test that uses it has run. The tests choose their own schools and people, apart
from the demo world's, so they do not see each other's data."""

from __future__ import annotations

import contextlib

import pytest
from xdist.scheduler import LoadScopeScheduling

from iris.dev import Stack
from iris.seed import seed_demo_world
from tests.infra import Infrastructure
from tests.stacks import dev_stack, stage_stack

KINDS = ("dev", "stage")
USERS = ("running", "platform")
"""The fixtures that hand a test one of these platforms, parametrised by kind."""


class Platforms:
    def __init__(self, infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.infra = infra
        self.tmp_path_factory = tmp_path_factory
        self.running: dict[str, Stack] = {}
        self.last_user: dict[str, str] = {}

    def get(self, kind: str) -> Stack:
        if kind not in self.running:
            data_dir = self.tmp_path_factory.mktemp(f"platform-{kind}")
            if kind == "dev":
                stack = dev_stack(self.infra, data_dir)
            else:
                stack = stage_stack(self.infra.database_server, data_dir)
            try:
                stack.start()
                seed_demo_world(stack)
            except BaseException:
                stack.stop()
                raise
            self.running[kind] = stack
        return self.running[kind]

    def finished(self, item: pytest.Item) -> None:
        """After a test: stop each platform that no later test needs."""
        for kind, nodeid in list(self.last_user.items()):
            if nodeid == item.nodeid:
                self.stop(kind)

    def stop(self, kind: str) -> None:
        stack = self.running.pop(kind, None)
        if stack is not None:
            stack.stop()

    def close(self) -> None:
        for kind in list(self.running):
            with contextlib.suppress(Exception):
                self.stop(kind)


def kind_of(item: pytest.Item) -> str | None:
    """The platform a collected test runs on, if it runs on a shared one."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    for name in USERS:
        if name in getattr(item, "fixturenames", ()) and params.get(name) in KINDS:
            return str(params[name])
    return None


def last_users(items: list[pytest.Item]) -> dict[str, str]:
    """Each kind's last test in the order the session runs them."""
    last: dict[str, str] = {}
    for item in items:
        kind = kind_of(item)
        if kind is not None:
            last[kind] = item.nodeid
    return last


def together(items: list[pytest.Item]) -> list[pytest.Item]:
    """The tests on shared platforms, moved to where the first of them was, all of one
    kind before the other: each platform then runs for one stretch of the session."""
    shared = [item for item in items if kind_of(item) is not None]
    if not shared:
        return items
    first = items.index(shared[0])
    others = [item for item in items if kind_of(item) is None]
    shared.sort(key=lambda item: KINDS.index(str(kind_of(item))))
    return others[:first] + shared + others[first:]


PLATFORM_TESTS = ("tests/e2e/", "tests/browser/staff/", "tests/bench/test_quick_mode.py")
"""The modules whose tests run on a whole platform, named by a `dev` or `stage` parameter."""


def group_of(nodeid: str) -> str:
    """The pytest-xdist worker group of a test: every test of a module together (their
    fixtures start once), the tests on the shared `iris dev` together, and every test that
    starts `iris stage` in one line, since two of it at once do not fit on two cores."""
    path, _, name = nodeid.partition("::")
    ids = name[name.find("[") + 1 : -1].split("-") if name.endswith("]") else []
    on_platform = path.startswith(PLATFORM_TESTS)
    if path.startswith("tests/stage/") or (on_platform and "stage" in ids):
        return "stage"
    if on_platform and "dev" in ids and not path.startswith("tests/bench/"):
        return "dev"
    return path


class GroupScheduling(LoadScopeScheduling):
    """`--dist loadscope` whose scopes are the groups of `group_of`."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)
