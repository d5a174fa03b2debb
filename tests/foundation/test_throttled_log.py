"""A warning that repeats with every request is logged once per reason and interval,
with how many were held back, so that a lapse of the cache does not flood the log."""

from __future__ import annotations

import logging

import pytest

from iris.logs import Throttled


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_one_line_and_the_next_line_says_how_many_were_held_back(caplog):
    clock = Clock()
    log = logging.getLogger("test.throttled")
    throttled = Throttled(log, every=10.0, clock=clock)
    with caplog.at_level(logging.WARNING, logger="test.throttled"):
        for _ in range(500):
            throttled.warning("check denied", "authorisation cache not current")
        throttled.warning("check denied", "authorisation cache not ready")
        clock.now += 10.0
        throttled.warning("check denied", "authorisation cache not current")
    lines = [(r.reason, r.held_back) for r in caplog.records]  # type: ignore[attr-defined]
    assert lines == [
        ("authorisation cache not current", 0),
        ("authorisation cache not ready", 0),
        ("authorisation cache not current", 499),
    ]


@pytest.mark.parametrize("later", [0.0, 9.9])
def test_nothing_more_is_logged_within_the_interval(caplog, later):
    clock = Clock()
    throttled = Throttled(logging.getLogger("test.throttled"), every=10.0, clock=clock)
    with caplog.at_level(logging.WARNING, logger="test.throttled"):
        throttled.warning("check denied", "r")
        clock.now += later
        throttled.warning("check denied", "r")
    assert len(caplog.records) == 1
