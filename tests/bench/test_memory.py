"""`iris bench memory` folds a data set's change events into a Redis of its own and weighs
the cache by kind of key, without starting the platform."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.dataset import generate
from bench.memory import change_events

pytestmark = pytest.mark.integration

KINDS = {"school enr", "school grant", "school rep", "pupil index", "pupil report", "person index"}


def test_the_memory_run_folds_every_change_and_weighs_each_kind_of_key(tmp_path: Path):
    command = ["bench", "memory", "--scale", "0.002", "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "iris.cli", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (written,) = tmp_path.glob("*-scale0.002-memory.json")
    result = json.loads(written.read_text())
    data = generate(0.002)
    assert result["events"] == sum(1 for _ in change_events(data))
    assert set(result["keys"]) == KINDS
    weighed = sum(kind["bytes"] for kind in result["keys"].values())
    assert 0 < weighed <= result["cache_bytes"] * 1.1
    assert result["pupils"] == data.counts()["pupils"]
