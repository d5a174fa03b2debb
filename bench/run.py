"""`iris bench run`: start the platform on embedded defaults (or on the infrastructure
named by IRIS_KAFKA_BOOTSTRAP / IRIS_REDIS_URL / IRIS_DATABASE_URL), publish the data set
through the topics and APIs real clients use, and measure each figure against its
baseline in the same run. Results go to bench/results/ as JSON, markdown and PNG plots."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench import harness, kafkabench
from bench.dataset import Dataset, generate
from iris import infra
from iris.auth import dev_issuer_key, mint
from iris.dev import Stack
from iris.registry import available

RESULTS = Path(__file__).resolve().parent / "results"


def start_stack(data_dir: Path) -> Stack:
    env = dict(os.environ)
    for name in ("broker", "redis", "issuer", *(s.name for s in available())):
        env[f"IRIS_{name.upper()}_PORT"] = str(infra.free_port())
    env["IRIS_LOG_LEVEL"] = "WARNING"
    stack = Stack(data_dir, env=env, say=lambda line: print(f"  {line}", flush=True))
    stack.start()
    return stack


def measure_ingestion(run: harness.Run, stack: Stack, data: Dataset) -> None:
    settings = stack.settings()
    key = dev_issuer_key(settings)

    def token_for(school: str) -> str:
        return mint(
            key,
            settings.oidc_issuer,
            f"client:bench-{school}",
            settings.audience,
            ttl_seconds=3 * 3600,
            school_id=school,
        )

    expected = len(data.enrolments)
    watcher = asyncio.run(_publish_and_watch(settings.kafka_bootstrap, data, token_for, expected))
    span = max(watcher["last"] - watcher["first"], 1e-9)
    rate = watcher["seen"] / span
    plain_count, plain_seconds = asyncio.run(
        kafkabench.plain_read(settings.kafka_bootstrap, ["iris.enrolment.submitted"])
    )
    plain_rate = plain_count / max(plain_seconds, 1e-9)
    run.add(
        harness.Result(
            key="ingestion",
            title="Enrolment ingestion, submitted → changes (1 worker)",
            figure="events/s",
            value=rate,
            baseline="events/s plain consumer",
            baseline_value=plain_rate,
            ratio=rate / plain_rate,
            target=">= 5,000 events/s",
            met=rate >= 5000,
            details={
                "events": watcher["seen"],
                "seconds": span,
                "expected": expected,
                "plain_events": plain_count,
                "plain_seconds": plain_seconds,
            },
        ),
        ingestion_curve=watcher["curve"],
    )


async def _publish_and_watch(bootstrap: str, data: Dataset, token_for, expected: int) -> dict:
    watching = asyncio.create_task(kafkabench.watch(bootstrap, "iris.enrolment.changes", expected))
    await asyncio.to_thread(kafkabench.publish_enrolments, bootstrap, data.enrolments, token_for)
    return await watching


def main(scale: float, out: Path = RESULTS, seed: int = 20261128) -> Path:
    run = harness.Run(scale=scale, machine=harness.describe_machine())
    print(f"IRIS bench at scale {scale:g}: generating the data set", flush=True)
    started = time.perf_counter()
    data = generate(scale, seed)
    run.dataset = data.counts()
    print(f"  {run.dataset} ({time.perf_counter() - started:.1f}s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="iris-bench-") as folder:
        print("IRIS bench: starting the platform", flush=True)
        stack = start_stack(Path(folder))
        run.infrastructure = {
            "kafka": "environment" if os.environ.get("IRIS_KAFKA_BOOTSTRAP") else "embedded tansu",
            "redis": "environment" if os.environ.get("IRIS_REDIS_URL") else "local redis-server",
            "sql": "environment" if os.environ.get("IRIS_DATABASE_URL") else "sqlite",
        }
        try:
            print("IRIS bench: measuring", flush=True)
            measure_ingestion(run, stack, data)
        finally:
            stack.stop()
    path = harness.write(run, out)
    print(f"IRIS bench: results in {path}", flush=True)
    return path
