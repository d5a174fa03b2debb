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

from bench import harness, hops, kafkabench, platform
from bench.dataset import Dataset, generate
from iris import apache_kafka, infra, stage
from iris.auth import dev_issuer_key, mint
from iris.dev import Stack, dev_broker
from iris.kafka import connection_options
from iris.registry import available
from iris.stage import Stage, connection_options_as
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


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_ingestion(run: harness.Run, stack: Stack, data: Dataset) -> None:
    settings = stack.settings()
    key = dev_issuer_key(settings)

    def token_for(school: str) -> str:
        return mint(
            key,
            settings.oidc_issuer,
            f"client:bench-{school}",
            settings.audience,
            # the longest a submission token may live; the run ends well within it
            ttl_seconds=settings.submission_token_max_lifetime_seconds,
            school_id=school,
        )

    expected = len(data.enrolments)
    kafka = connection_options(settings)
    workers = [c.process for c in stack.children if c.name.startswith("enrolment-worker")]
    # The workers are paused while the submissions are published, so that they drain a
    # backlog as the plain consumer does, instead of following the publisher's pace.
    for worker in workers:
        worker.send_signal(signal.SIGSTOP)
    try:
        published, publish_seconds = kafkabench.publish_enrolments(
            connection_options_as("school", stack, settings), data.enrolments, token_for
        )
    finally:
        cpu_before = sum(_cpu_seconds(worker.pid) for worker in workers)
        for worker in workers:
            worker.send_signal(signal.SIGCONT)
    watcher = asyncio.run(kafkabench.watch(kafka, "iris.enrolment.changes", expected, idle=60))
    cpu_used = sum(_cpu_seconds(worker.pid) for worker in workers) - cpu_before
    span = max(watcher["last"] - watcher["first"], 1e-9)
    rate = watcher["seen"] / span
    plain_count, plain_seconds = asyncio.run(
        kafkabench.plain_read(kafka, ["iris.enrolment.submitted"])
    )
    plain_rate = plain_count / max(plain_seconds, 1e-9)
    run.add(
        harness.Result(
            key="ingestion",
            title="Enrolment ingestion, submitted → changes "
            f"({len(workers)} worker{'s' if len(workers) > 1 else ''})",
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
                "workers": len(workers),
                "worker_cpu_seconds": cpu_used,
                "events_per_worker_cpu_second": watcher["seen"] / max(cpu_used, 1e-9),
                "load_average": os.getloadavg(),
                "published": published,
                "publish_seconds": publish_seconds,
                "method": "worker paused (SIGSTOP) while publishing; timed from the first to "
                "the last change it published after resuming",
            },
        ),
        ingestion_curve=watcher["curve"],
    )


def measure_platform(
    run: harness.Run,
    stack: Stack,
    data: Dataset,
    http_seconds: float | None = None,
    revocations: int = 200,
) -> None:
    settings = stack.settings()
    kafka = connection_options(settings)
    tokens = platform.Tokens(dev_issuer_key(settings), settings)
    print("  publishing reports and grants through the HTTP APIs", flush=True)
    published = asyncio.run(platform.publish_reports_and_grants(stack.urls, tokens, data))
    run.dataset["published"] = {
        "reports": published.reports,
        "withdrawals": published.withdrawals,
        "grants": len(published.grants),
        "revocations": published.revoked,
        "expired_grants_not_publishable": published.expired_skipped,
        "refused": published.refused,
        "seconds": round(published.seconds, 1),
        "requests_per_second": round(
            (published.reports + published.withdrawals + len(published.grants) + published.revoked)
            / max(published.seconds, 1e-9),
            1,
        ),
    }
    print(f"  {run.dataset['published']}", flush=True)
    expected = {
        "iris.report.changes": published.reports + published.withdrawals,
        "iris.access.grants": len(published.grants) + published.revoked,
    }
    asyncio.run(platform.wait_for_topics(kafka, expected))
    waited = asyncio.run(platform.wait_for_viewer(kafka))
    print(f"  the viewer worker caught up ({waited:.1f}s after the relays)", flush=True)

    # 4 and 6: rebuild from the topics into an empty Redis database, then weigh it
    built = asyncio.run(platform.rebuild_and_memory(settings, data))
    topics = [t.name for t in platform.CHANGE_TOPICS]
    sizes: dict[str, int] = {}
    plain_count, plain_seconds = asyncio.run(kafkabench.plain_read(kafka, topics, sizes))
    rate = built["events"] / max(built["seconds"], 1e-9)
    plain_rate = plain_count / max(plain_seconds, 1e-9)
    full_seconds = built["seconds"] / data.scale
    run.add(
        harness.Result(
            key="rebuild",
            title="Viewer cache rebuilt from the three change topics",
            figure="events/s",
            value=rate,
            baseline="events/s plain consumer",
            baseline_value=plain_rate,
            ratio=rate / plain_rate,
            target=">= 30% of plain; Flanders < 120 s",
            met=rate / plain_rate >= 0.3 and full_seconds < 120,
            details={
                "events": built["events"],
                "seconds": built["seconds"],
                "projected_full_scale_seconds": full_seconds,
                "plain_events": plain_count,
                "plain_seconds": plain_seconds,
                "ready_marker_set": built["ready"],
            },
        ),
        rebuild_curve=built["curve"],
    )
    cache_mib = built["cache_bytes"] / 2**20
    raw_mib = sizes.get("bytes", 0) / 2**20
    run.add(
        harness.Result(
            key="memory",
            title="Redis memory of the whole viewer cache",
            figure="MiB",
            value=cache_mib,
            baseline="MiB of change events on the topics",
            baseline_value=raw_mib,
            ratio=cache_mib / max(raw_mib, 1e-9),
            target="< 500 MB at full scale",
            met=built["cache_bytes"] / data.scale < 500e6,
            details={
                k: built[k]
                for k in (
                    "used_memory_before",
                    "used_memory_after",
                    "cache_bytes",
                    "bytes_per_pupil",
                    "bytes_per_grant",
                    "pupils",
                    "grants",
                    "keys",
                )
            }
            | {"projected_full_scale_mib": cache_mib / data.scale},
        )
    )

    # 1: the authorisation check against PING on the same connection
    pairs = platform.viewing_pairs(data, published, 500)
    if not pairs:
        raise RuntimeError("the data set gives nobody a report to view")
    checked = asyncio.run(platform.check_latency(settings.redis_url, pairs, 5000))
    check = harness.percentiles(checked["check_ms"])
    ping = harness.percentiles(checked["ping_ms"])
    run.add(
        harness.Result(
            key="check",
            title="Authorisation check (one EVALSHA), p99",
            figure="ms",
            value=check["p99"],
            baseline="ms Redis PING p99, same connection",
            baseline_value=ping["p99"],
            ratio=check["p99"] / ping["p99"],
            target="<= 1.5x PING at p99",
            met=check["p99"] <= 1.5 * ping["p99"],
            details={"check": check, "ping": ping, "allowed": checked["allowed"]},
        ),
        check_ms=checked["check_ms"],
        ping_ms=checked["ping_ms"],
    )

    # 2: the viewer over HTTP at a fixed concurrency
    viewer = stack.urls["viewer"]
    concurrency = 16
    seconds = http_seconds or (5.0 if data.scale < 0.5 else 15.0)

    def listing(n: int) -> tuple[str, dict[str, str]]:
        person, _pupil, school = pairs[n % len(pairs)]
        return f"{viewer}/v1/schools/{school}/pupils-with-report", tokens.person(person)

    def page(n: int) -> tuple[str, dict[str, str]]:
        person, pupil, _school = pairs[n % len(pairs)]
        return f"{viewer}/pupils/{pupil}/report", tokens.person(person, name="Leraar")

    def trivial(_n: int) -> tuple[str, dict[str, str]]:
        return f"{viewer}/healthz", {}

    for n in range(len(pairs)):  # clients hold their tokens before the clock starts
        listing(n), page(n)
    loads = {}
    for name, url_for in (("healthz", trivial), ("listing", listing), ("report", page)):
        loads[name] = asyncio.run(platform.http_load(url_for, concurrency, seconds))
        print(
            f"  http {name}: {loads[name]['per_second']:.0f}/s, "
            f"unexpected {loads[name]['unexpected']}",
            flush=True,
        )
    base = loads["healthz"]
    for key, title, target, share in (
        ("listing", "Viewer HTTP: pupils-with-report", "reported only", None),
        ("report", "Viewer HTTP: report page", ">= 50% of trivial", 0.5),
    ):
        load = loads[key]
        ratio = load["per_second"] / base["per_second"]
        run.add(
            harness.Result(
                key=f"http_{key}",
                title=f"{title} ({concurrency} concurrent)",
                figure="requests/s",
                value=load["per_second"],
                baseline="requests/s /healthz, same app and server",
                baseline_value=base["per_second"],
                ratio=ratio,
                target=target,
                met=None if share is None else ratio >= share,
                details={
                    "latency": harness.percentiles(load["latency_ms"]),
                    "baseline_latency": harness.percentiles(base["latency_ms"]),
                    "requests": load["requests"],
                    "seconds": load["seconds"],
                    "unexpected_statuses": load["unexpected"],
                    "concurrency": concurrency,
                },
            ),
            **{f"http_{key}_ms": load["latency_ms"]},
        )
    run.series["http_healthz_ms"] = base["latency_ms"]

    # 3: revoke-to-deny against the broker's own produce-to-consume latency
    revoked = asyncio.run(
        platform.revoke_to_deny(stack.urls, kafka, settings.redis_url, tokens, pairs, revocations)
    )
    broker = asyncio.run(
        kafkabench.produce_to_consume_ms(
            kafka,
            revocations,
            settings.kafka_fetch_max_wait_ms,
            replicas=settings.topic_replication_factor,
        )
    )
    deny = harness.percentiles(revoked["revoke_to_deny_ms"])
    bare = harness.percentiles(broker)
    run.add(
        harness.Result(
            key="revoke",
            title=f"Revoke-to-deny, p99 over {revocations} revocations",
            figure="ms",
            value=deny.get("p99", float("nan")),
            baseline="ms broker produce-to-consume p99",
            baseline_value=bare["p99"],
            ratio=deny.get("p99", float("nan")) / bare["p99"],
            target="p99 < 250 ms",
            met=deny.get("p99", float("inf")) < 250 and revoked["not_denied_in_time"] == 0,
            details={
                "revoke_to_deny": deny,
                "produce_to_consume": bare,
                "revoke_to_topic": harness.percentiles(revoked["revoke_to_topic_ms"]),
                "hops": hops.summarise(revoked["hops_ms"], harness.percentiles),
                "granted": revoked["granted"],
                "allowed_before_revoking": revoked["allowed_before_revoking"],
                "not_denied_in_time": revoked["not_denied_in_time"],
                "method": "8 revocations in flight at a time, each timed from the revoke "
                "call's answer to the first denied check; "
                "revoke_to_topic: to the revoked grant's change on iris.access.grants; "
                "hops: " + hops.HOPS,
            },
        ),
        revoke_to_deny_ms=revoked["revoke_to_deny_ms"],
        revoke_to_topic_ms=revoked["revoke_to_topic_ms"],
        produce_to_consume_ms=broker,
    )


def _stop_on_term(_signum: int, _frame: object) -> None:
    raise SystemExit(143)


def main(
    scale: float,
    out: Path = RESULTS,
    seed: int = 20261128,
    http_seconds: float | None = None,
    revocations: int = 200,
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
            if only in (None, "platform"):
                measure_platform(run, stack, data, http_seconds, revocations)
        finally:
            stack.stop()
    path = harness.write(run, out)
    print(f"IRIS bench: results in {path}", flush=True)
    return path
