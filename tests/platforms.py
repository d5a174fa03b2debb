"""One running platform of each kind for the whole test session.

Starting `iris stage` (three brokers, a Redis Cluster, two of every service) takes about a
minute on two cores, and the end-to-end, the staff pages' browser tests and the stage's
fault tests need it (the first two `iris dev` as well). They share one of each, with the
demo world seeded once; each kind stops as soon as the last test that uses it has run. The
tests choose their own schools and people, apart from the demo world's, so they do not see
each other's data. The stage runs on a PostgreSQL server of its own, which the fault tests
stop and start; they run last on it (tests/stage comes after the other users)."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

from iris import infra as local
from iris.dev import Stack
from iris.seed import seed_demo_world
from tests.infra import Infrastructure
from tests.stacks import dev_stack, stage_stack

KINDS = ("dev", "stage")
USERS = ("running", "platform", "staged")
"""The fixtures that hand a test one of these platforms, parametrised by kind."""


class Platforms:
    def __init__(self, infra: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.infra = infra
        self.tmp_path_factory = tmp_path_factory
        self.running: dict[str, Stack] = {}
        self.last_user: dict[str, str] = {}
        self.postgres: local.LocalPostgres | None = None  # the stage's own server
        self.unavailable: dict[str, str] = {}  # why a kind cannot start here

    def _stage_database(self) -> str | None:
        """A PostgreSQL server of the stage's own, in a folder under /tmp (the server runs
        as `postgres`, who cannot enter pytest's); the tests' server where none can start."""
        if local.postgres_bin() is None:
            return self.infra.database_server
        folder = Path(tempfile.mkdtemp(prefix="iris-pg-"))
        self.postgres = local.start_postgres(local.free_port(), folder)
        return self.postgres.url

    def get(self, kind: str) -> Stack:
        if kind in self.unavailable:
            pytest.skip(self.unavailable[kind])
        if kind not in self.running:
            data_dir = self.tmp_path_factory.mktemp(f"platform-{kind}")
            try:
                if kind == "dev":
                    stack = dev_stack(self.infra, data_dir)
                else:
                    stack = stage_stack(self._stage_database(), data_dir)
                self.running[kind] = stack
                stack.start()
                seed_demo_world(stack)
            except pytest.skip.Exception as skipped:
                self.unavailable[kind] = str(skipped)
                self.stop(kind)
                raise
            except BaseException:
                self.stop(kind)
                raise
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
        if kind == "stage" and self.postgres is not None:
            self.postgres.stop()
            shutil.rmtree(self.postgres.directory, ignore_errors=True)
            self.postgres = None

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


def breaks_it(item: pytest.Item) -> bool:
    """A fault test (tests/stage), which kills and stops parts of the platform it runs on."""
    return "staged" in getattr(item, "fixturenames", ())


def together(items: list[pytest.Item]) -> list[pytest.Item]:
    """The tests on shared platforms, moved to where the first of them was, all of one
    kind before the other, and the fault tests last of their kind: each platform then runs
    for one stretch of the session, and what a fault test breaks no other test meets."""
    shared = [item for item in items if kind_of(item) is not None]
    if not shared:
        return items
    first = items.index(shared[0])
    others = [item for item in items if kind_of(item) is None]
    shared.sort(key=lambda item: (KINDS.index(str(kind_of(item))), breaks_it(item)))
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
