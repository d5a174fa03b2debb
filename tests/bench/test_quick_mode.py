"""`iris bench run` at a tiny scale runs every measurement and writes well-formed results,
on `iris dev` and on `iris stage`.

No timing is asserted here: speed belongs to the benchmark's own report."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from iris import apache_kafka
from iris import infra as local

pytestmark = pytest.mark.integration

MEASUREMENTS = {"ingestion", "rebuild", "memory", "check", "http_listing", "http_report", "revoke"}


@dataclass
class Results:
    folder: Path
    stack: str

    def file(self, name: str) -> Path:
        """`latest-quick.json` of a run on iris dev is `latest-quick-stage.json` on the stage."""
        stem, dot, ext = name.partition(".")
        tag = "" if self.stack == "dev" else f"-{self.stack}"
        if stem.endswith(("-latency", "-progress")):
            base, _, kind = stem.rpartition("-")
            return self.folder / f"{base}{tag}-{kind}{dot}{ext}"
        return self.folder / f"{stem}{tag}{dot}{ext}"


@contextlib.contextmanager
def stage_database() -> Iterator[str]:
    """A PostgreSQL server of the run's own: the stage drops and makes its databases."""
    if local.postgres_bin() is None:
        pytest.skip("PostgreSQL's server is not installed")
    postgres = local.start_postgres(local.free_port(), Path(tempfile.mkdtemp(prefix="iris-pg-")))
    try:
        yield postgres.url
    finally:
        postgres.stop()
        shutil.rmtree(postgres.directory, ignore_errors=True)


def run_bench(out: Path, data_dir: Path, stack: str, database: str | None) -> None:
    # The benchmark starts its own platform: embedded infrastructure, or the stage.
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRIS_")}
    env["IRIS_DATA_DIR"] = str(data_dir)
    if database:
        env["IRIS_DATABASE_URL"] = database
    args = ["--scale", "0.002", "--out", str(out), "--http-seconds", "0.5", "--revocations", "10"]
    args += ["--checks", "500"]
    bench = subprocess.Popen(
        [sys.executable, "-m", "iris.cli", "bench", "run", "--stack", stack, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = bench.communicate(timeout=300 if stack == "dev" else 600)
    except subprocess.TimeoutExpired:
        bench.terminate()  # the bench stops the platform it started
        output, _ = bench.communicate(timeout=60)
    assert bench.returncode == 0, output[-5000:]


@pytest.fixture(scope="module", params=["dev", "stage"])
def results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Results:
    out = tmp_path_factory.mktemp("bench-results")
    data_dir = tmp_path_factory.mktemp("bench-data")
    if request.param == "dev":
        run_bench(out, data_dir, "dev", None)
    else:
        if not apache_kafka.installed():
            pytest.skip("Apache Kafka is not installed (scripts/kafka-broker.sh)")
        with stage_database() as server:
            run_bench(out, data_dir, "stage", server)
    return Results(out, request.param)


def test_every_measurement_lands_in_the_json_beside_its_baseline(results):
    body = json.loads(results.file("latest-quick.json").read_text())
    assert body["scale"] == 0.002
    assert body["stack"] == results.stack
    assert body["infrastructure"]["stack"] == results.stack
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
    body = json.loads(results.file("latest-quick.json").read_text())
    published = body["dataset"]["published"]
    assert published["reports"] == body["dataset"]["report_versions"]
    expired = published["expired_grants_not_publishable"]
    assert published["grants"] + expired == body["dataset"]["grants"]
    assert published["refused"] == {}
    revoke = next(r for r in body["results"] if r["key"] == "revoke")
    assert revoke["details"]["not_denied_in_time"] == 0


def test_the_check_and_revoke_to_deny_were_measured_under_a_live_load(results):
    """The viewer folded a live stream while the check was timed, and readers and
    submissions ran while revocations were: each load says how much it sent."""
    body = json.loads(results.file("latest-quick.json").read_text())
    by_key = {r["key"]: r for r in body["results"]}
    stream = by_key["check"]["details"]["live_changes"]
    assert stream["events"] > 0 and stream["seconds"] > 0
    assert by_key["check"]["details"]["quiet"]["check"]["p99"] > 0
    assert by_key["check"]["details"]["check"]["n"] == 500  # --checks
    load = by_key["revoke"]["details"]["load"]
    assert load["report_page_readers"]["events"] > 0
    assert load["submissions"]["events"] > 0
    assert by_key["revoke"]["details"]["not_denied_in_time"] == 0


def test_the_markdown_table_has_a_row_per_measurement(results):
    table = results.file("latest-quick.md").read_text().splitlines()
    header = next(i for i, line in enumerate(table) if line.startswith("| measurement"))
    rows = [line for line in table[header + 2 :] if line.startswith("|")]
    assert len(rows) == len(MEASUREMENTS)
    assert all(row.count("|") == 7 for row in rows)


def test_the_latency_and_progress_plots_are_png_images(results):
    for name in ("latest-quick-latency.png", "latest-quick-progress.png"):
        image = results.file(name).read_bytes()
        assert image.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(image) > 5000, name


def test_a_stage_run_names_its_engines_and_leaves_the_dev_names_alone(results):
    if results.stack != "stage":
        pytest.skip("the stage's own names")
    body = json.loads(results.file("latest-quick.json").read_text())
    assert "SASL" in body["infrastructure"]["kafka"]
    assert "postgresql" in body["infrastructure"]["sql"]
    assert not (results.folder / "latest-quick.json").exists()
    assert any(p.name.endswith("-scale0.002-stage.json") for p in results.folder.iterdir())
    ingestion = next(r for r in body["results"] if r["key"] == "ingestion")
    assert ingestion["details"]["workers"] == 2
