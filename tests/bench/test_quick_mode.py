"""`iris bench run` at a tiny scale runs every measurement and writes well-formed results.

No timing is asserted here: speed belongs to the benchmark's own report."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

MEASUREMENTS = {"ingestion", "rebuild", "memory", "check", "http_listing", "http_report", "revoke"}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench-results")
    # The benchmark starts its own platform on embedded infrastructure.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
    env["IRIS_DATA_DIR"] = str(tmp_path_factory.mktemp("bench-data"))
    args = ["--scale", "0.002", "--out", str(out), "--http-seconds", "0.5", "--revocations", "10"]
    bench = subprocess.Popen(
        [sys.executable, "-m", "iris.cli", "bench", "run", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = bench.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        bench.terminate()  # the bench stops the platform it started
        output, _ = bench.communicate(timeout=60)
    assert bench.returncode == 0, output[-5000:]
    return out


def test_every_measurement_lands_in_the_json_beside_its_baseline(results):
    body = json.loads((results / "latest-quick.json").read_text())
    assert body["scale"] == 0.002
    assert body["machine"]["cores"] >= 1
    found = {r["key"]: r for r in body["results"]}
    assert set(found) == MEASUREMENTS
    for result in found.values():
        for figure in ("value", "baseline_value", "ratio"):
            assert isinstance(result[figure], int | float), (result["key"], figure)
            assert math.isfinite(result[figure]) and result[figure] >= 0, (result["key"], figure)
        assert result["met"] in (True, False, None)
        assert result["target"]


def test_the_published_data_set_was_accepted_by_the_apis(results):
    body = json.loads((results / "latest-quick.json").read_text())
    published = body["dataset"]["published"]
    assert published["reports"] == body["dataset"]["report_versions"]
    expired = published["expired_grants_not_publishable"]
    assert published["grants"] + expired == body["dataset"]["grants"]
    assert published["refused"] == {}
    revoke = next(r for r in body["results"] if r["key"] == "revoke")
    assert revoke["details"]["not_denied_in_time"] == 0


def test_the_markdown_table_has_a_row_per_measurement(results):
    table = (results / "latest-quick.md").read_text().splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("| measurement"))
    rows = [line for line in table[header + 2 :] if line.startswith("|")]
    assert len(rows) == len(MEASUREMENTS)
    assert all(row.count("|") == 7 for row in rows)


def test_the_latency_and_progress_plots_are_png_images(results):
    for name in ("latest-quick-latency.png", "latest-quick-progress.png"):
        image = (results / name).read_bytes()
        assert image.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(image) > 5000, name
