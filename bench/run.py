"""`iris bench run`: start the platform — `iris dev` on embedded defaults (or on the
infrastructure named by IRIS_KAFKA_BOOTSTRAP / IRIS_REDIS_URL / IRIS_DATABASE_URL), or
`iris stage` with `--stack stage` — publish the data set through the topics and APIs real
clients use, and measure each figure against its baseline in the same run. Results go to
bench/results/ as JSON, markdown and PNG plots."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from bench import harness
from bench.dataset import generate
from bench.measure import Samples, measure_ingestion, measure_platform, publish_enrolments
from iris import apache_kafka, infra, stage
from iris.dev import Stack, dev_broker
from iris.registry import available
from iris.stage import Stage
from services.viewer.scripts import connect

RESULTS = Path(__file__).resolve().parent / "results"
# What `--only` may name: ingestion alone, or the measurements made on the published
# reports and grants (rebuild, memory, check, HTTP, revoke), which share one set-up.
PARTS = ("ingestion", "platform")
STACKS = ("dev", "stage")


_TAKEN: set[int] = set()


def spare_port() -> int:
    """A free port below the kernel's ephemeral range: the stage runs for minutes before
    its last process binds, and meanwhile its clients' own connections take ephemeral
    ports, so a free port from that range (`infra.free_port`) may be gone by then."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(max(1024, low - 12000), low)
        if port in _TAKEN:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))  # where the metrics servers bind
            except OSError:
                continue
        _TAKEN.add(port)
        return port
    return infra.free_port()


BENCH_TOKEN_LIFETIME = 4 * 3600  # seconds a submission token may live on the bench's platform


def free_ports(replicas: int) -> dict[str, str]:
    """Free ports for the engines and for every API, worker and issuer of each replica."""
    env = {f"IRIS_{name.upper()}_PORT": str(spare_port()) for name in ("redis", "issuer")}
    for spec in available():
        for replica in range(1, replicas + 1):
            name = spec.name.upper() + ("" if replica == 1 else f"_{replica}")
            env[f"IRIS_{name}_PORT"] = str(spare_port())
            if spec.has_worker:
                env[f"IRIS_{name}_WORKER_METRICS_PORT"] = str(spare_port())
    return env


def start_stack(data_dir: Path, kind: str = "dev") -> Stack:
    """`iris dev` (one of everything), or `iris stage` (three SASL brokers with ACLs, a
    PostgreSQL database per service from the server IRIS_DATABASE_URL names, two replicas
    of every API and worker), on free ports."""
    env = dict(os.environ)
    env["IRIS_LOG_LEVEL"] = "WARNING"
    # The ingestion measurement drains a backlog published first. Where the broker does not
    # stamp append times (Tansu), the workers judge a submission's token when they apply it,
    # and at full scale on two cores the oldest wait longer than a token's default 15 min.
    env.setdefault("IRIS_SUBMISSION_TOKEN_MAX_LIFETIME_SECONDS", str(BENCH_TOKEN_LIFETIME))
    say = lambda line: print(f"  {line}", flush=True)  # noqa: E731
    stack: Stack
    if kind == "stage":
        if not apache_kafka.installed():
            raise RuntimeError("--stack stage needs Apache Kafka (scripts/kafka-broker.sh)")
        ports = ",".join(str(spare_port()) for _ in range(stage.BROKERS))
        env |= free_ports(stage.REPLICAS) | {"IRIS_BROKER_PORTS": ports}
        stack = Stage(data_dir, env=env, say=say)
        if not env.get("IRIS_REDIS_URL"):
            # one Redis node: the rebuild and memory measurements use a second database of
            # the same server, which a cluster does not have
            redis = infra.start_redis(spare_port(), data_dir)
            stack.infra.append(redis)
            env["IRIS_REDIS_URL"] = redis.url
    else:
        env |= free_ports(1) | {"IRIS_BROKER_PORT": str(spare_port())}
        stack = Stack(data_dir, env=env, say=say)
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack


async def server_version(url: str) -> str:
    """The Redis version behind a viewer URL (one node, Sentinel or a cluster)."""
    client, _cluster = connect(url)
    try:
        info = await client.info("server")
    finally:
        await client.aclose()
    if "redis_version" not in info:  # a cluster answers per node
        info = next(iter(info.values()), {})
    return str(info.get("redis_version", "?"))


def describe_infrastructure(kind: str, stack: Stack, environ: dict[str, str]) -> dict[str, str]:
    """Which stack and engines ran: `run.infrastructure` in the results."""
    settings = stack.settings()
    version = next(
        (p.stem.split("-", 1)[1] for p in apache_kafka.libs_dir().glob("kafka_2.13-*.jar")), "?"
    )
    if kind == "stage":
        kafka = f"apache kafka {version} x{stage.BROKERS} (SASL/SCRAM, ACLs)"
    elif environ.get("IRIS_KAFKA_BOOTSTRAP"):
        kafka = f"environment ({environ['IRIS_KAFKA_BOOTSTRAP']})"
    elif dev_broker(environ) == "kafka":
        kafka = f"apache kafka {version} x1 (KRaft, plaintext)"
    else:
        kafka = "embedded tansu"
    redis_version = asyncio.run(server_version(settings.redis_url))
    where = "environment" if environ.get("IRIS_REDIS_URL") else "local redis-server"
    sql = {make_url(settings.database_url_for(s.name)).get_backend_name() for s in available()}
    return {
        "stack": kind,
        "kafka": kafka,
        "redis": f"{where} {redis_version}",
        "sql": ", ".join(sorted(sql)) + (" (a database per service)" if kind == "stage" else ""),
    }


def _stop_on_term(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


def main(
    scale: float,
    out: Path = RESULTS,
    seed: int = 20261128,
    samples: Samples = Samples(),
    only: str | None = None,
    stack_kind: str = "dev",
) -> Path:
    """Run every measurement, or with `only` one part of them (see PARTS), on `iris dev`
    or `iris stage` (see STACKS). A partial run writes its results as usual but under
    names of its own (`latest-quick-<part>.*`), and so does a run on the stage
    (`latest-quick-stage.*`), so that the latest figures of the whole suite on `iris dev`
    stay as they were."""
    if only is not None and only not in PARTS:
        raise ValueError(f"--only takes one of {', '.join(PARTS)}, not {only!r}")
    if stack_kind not in STACKS:
        raise ValueError(f"--stack takes one of {', '.join(STACKS)}, not {stack_kind!r}")
    signal.signal(signal.SIGTERM, _stop_on_term)  # so that the platform is stopped too
    run = harness.Run(scale=scale, machine=harness.describe_machine(), only=only, stack=stack_kind)
    print(f"IRIS bench at scale {scale:g}: generating the data set", flush=True)
    started = time.perf_counter()
    data = generate(scale, seed)
    run.dataset = data.counts()
    print(f"  {run.dataset} ({time.perf_counter() - started:.1f}s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="iris-bench-") as folder:
        print(f"IRIS bench: starting the platform (iris {stack_kind})", flush=True)
        stack = start_stack(Path(folder), stack_kind)
        try:
            run.infrastructure = describe_infrastructure(stack_kind, stack, dict(os.environ))
            print(f"  {run.infrastructure}", flush=True)
            print("IRIS bench: measuring", flush=True)
            if only in (None, "ingestion"):
                measure_ingestion(run, stack, data)
            if only == "platform":
                publish_enrolments(stack, data)
            if only in (None, "platform"):
                measure_platform(run, stack, data, samples)
        finally:
            stack.stop()
    path = harness.write(run, out)
    print(f"IRIS bench: results in {path}", flush=True)
    return path
