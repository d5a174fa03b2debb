"""The measurements of `iris bench run`, each set beside its baseline in the same run:
ingestion, and on the published reports and grants the cache rebuild, its memory, the
authorisation check, the viewer over HTTP and revoke-to-deny."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import cachebench, harness, hops, kafkabench, live, platform, revocation, targets
from bench.dataset import Dataset
from bench.kafkabench import Options
from iris.auth import dev_issuer_key, mint
from iris.contracts import ENROLMENT_CHANGES
from iris.dev import Stack
from iris.kafka import connection_options
from iris.settings import Settings
from iris.stage import connection_options_as, settings_as
from services.viewer.rebuild import CHANGE_TOPICS


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def submission_tokens(settings: Settings) -> Callable[[str], str]:
    """A school's submission token, as its software would hold one."""
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

    return token_for


def _submit(stack: Stack, settings: Settings, data: Dataset) -> tuple[int, float]:
    """Submit the data set's enrolments as the schools' software does."""
    school = connection_options_as("school", stack, settings)
    return kafkabench.publish_enrolments(school, data.enrolments, submission_tokens(settings))


def _watch_changes(settings: Settings, data: Dataset) -> dict[str, Any]:
    """Wait for the data set's enrolments to arrive as changes (`kafkabench.watch`)."""
    options = connection_options(settings)
    changes = kafkabench.watch(
        options, ENROLMENT_CHANGES.name, len(data.enrolments), within=3600, idle=120
    )
    return asyncio.run(changes)


def publish_enrolments(stack: Stack, data: Dataset) -> None:
    """Submit the data set's enrolments and wait until each is a change, unmeasured: the
    platform's measurements run alone (`--only platform`) need the pupils enrolled."""
    settings = stack.settings()
    print("  submitting the enrolments (not measured)", flush=True)
    _submit(stack, settings, data)
    seen = _watch_changes(settings, data)["seen"]
    if seen < len(data.enrolments):
        raise RuntimeError(f"{seen} of {len(data.enrolments)} enrolments applied")


def measure_ingestion(run: harness.Run, stack: Stack, data: Dataset) -> None:
    settings = stack.settings()
    kafka = connection_options(settings)
    expected = len(data.enrolments)
    workers = [c.process for c in stack.children if c.name.startswith("enrolment-worker")]
    # The workers are paused while the submissions are published, so that they drain a
    # backlog as the plain consumer does, instead of following the publisher's pace.
    for worker in workers:
        worker.send_signal(signal.SIGSTOP)
    try:
        published, publish_seconds = _submit(stack, settings, data)
    finally:
        cpu_before = sum(_cpu_seconds(worker.pid) for worker in workers)
        for worker in workers:
            worker.send_signal(signal.SIGCONT)
    watcher = _watch_changes(settings, data)
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
            target=targets.INGESTION,
            met=targets.ingestion_met(rate, len(workers)) and watcher["seen"] == expected,
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


@dataclass(frozen=True)
class Samples:
    """How much each measurement samples: seconds of HTTP load per endpoint (None: 5, or 15
    from scale 0.5), revocations timed, and checks timed on a quiet cache and again under
    the live stream (which runs for as long as those checks take)."""

    http_seconds: float | None = None
    revocations: int = 200
    checks: int = 5000


def measure_platform(
    run: harness.Run, stack: Stack, data: Dataset, samples: Samples = Samples()
) -> None:
    settings = stack.settings()
    kafka = connection_options(settings)
    tokens = platform.Tokens(dev_issuer_key(settings), settings)
    published = _publish(run, stack, data, tokens, kafka)
    _measure_rebuild_and_memory(run, settings, kafka, data)
    pairs = _measure_check(run, stack, settings, data, published, samples.checks)
    _measure_http(run, stack, data, tokens, pairs, samples.http_seconds)
    _measure_revoke(run, stack, settings, kafka, tokens, pairs, samples.revocations)


def _publish(
    run: harness.Run, stack: Stack, data: Dataset, tokens: platform.Tokens, kafka: Options
) -> platform.Published:
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
    waited = asyncio.run(platform.wait_for_workers(stack.settings()))
    print(f"  the viewer and access workers caught up ({waited:.1f}s after the relays)", flush=True)
    return published


def _measure_rebuild_and_memory(
    run: harness.Run, settings: Settings, kafka: Options, data: Dataset
) -> None:
    # 4 and 6: rebuild from the topics into an empty Redis database, then weigh it
    built = asyncio.run(cachebench.rebuild_and_memory(settings, data))
    topics = [t.name for t in CHANGE_TOPICS]
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
            target=targets.REBUILD,
            met=targets.rebuild_met(rate / plain_rate, full_seconds),
            details={
                "events": built["events"],
                "seconds": built["seconds"],
                "projected_full_scale_seconds": full_seconds,
                "plain_events": plain_count,
                "plain_seconds": plain_seconds,
                "ready_marker_set": built["ready"],
                # waiting for fetches, parsing and writing rows, waiting for Redis's fold
                "phases_seconds": built["phases_seconds"],
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
            target=targets.MEMORY,
            # A bucket's key costs as much for a few entries as for many, so a smaller
            # data set projects too high: judged on the whole of Flanders only (which
            # `iris bench memory --scale 1.0` folds without the platform, in minutes).
            met=targets.memory_met(built["cache_bytes"]) if data.scale == 1.0 else None,
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
            | {"linear_projection_to_full_scale_mib": cache_mib / data.scale},
        )
    )


def _measure_check(
    run: harness.Run,
    stack: Stack,
    settings: Settings,
    data: Dataset,
    published: platform.Published,
    checks: int,
) -> list[tuple[str, str, str]]:
    # 1: the authorisation check against PING on the same connection, once on a quiet
    # cache and once while the viewer folds a live stream of changes
    pairs = platform.viewing_pairs(data, published, 500)
    if not pairs:
        raise RuntimeError("the data set gives nobody a report to view")
    quiet = asyncio.run(platform.check_latency(settings.redis_url, pairs, checks))
    as_enrolment = settings_as("enrolment", stack, settings)
    with live.running(live.changes, as_enrolment, pairs[0][2], live.CHANGES_PER_SECOND) as stream:
        checked = asyncio.run(platform.check_latency(settings.redis_url, pairs, checks))
    asyncio.run(platform.wait_for_workers(settings))  # folded it all
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
            target=targets.CHECK,
            met=targets.check_met(check["p99"], ping["p99"]),
            details={
                "check": check,
                "ping": ping,
                "allowed": checked["allowed"],
                "live_changes": stream,
                "quiet": {
                    "check": harness.percentiles(quiet["check_ms"]),
                    "ping": harness.percentiles(quiet["ping_ms"]),
                },
                "method": f"while {live.CHANGES_PER_SECOND:,} enrolment changes a second are "
                "published for the viewer to fold (bench/live.py); quiet: the same before it",
            },
        ),
        check_ms=checked["check_ms"],
        ping_ms=checked["ping_ms"],
    )
    return pairs


def _measure_http(
    run: harness.Run,
    stack: Stack,
    data: Dataset,
    tokens: platform.Tokens,
    pairs: list[tuple[str, str, str]],
    http_seconds: float | None,
) -> None:
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
    for key, title, target in (
        ("listing", "Viewer HTTP: pupils-with-report", "reported only"),
        ("report", "Viewer HTTP: report page", targets.REPORT_PAGE),
    ):
        load = loads[key]
        ratio = load["per_second"] / base["per_second"]
        latency = harness.percentiles(load["latency_ms"])
        met = targets.report_page_met(ratio, latency["p99"]) if key == "report" else None
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
                met=met,
                details={
                    "latency": latency,
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


def _measure_revoke(
    run: harness.Run,
    stack: Stack,
    settings: Settings,
    kafka: Options,
    tokens: platform.Tokens,
    pairs: list[tuple[str, str, str]],
    revocations: int,
) -> None:
    # 3: revoke-to-deny against the broker's own produce-to-consume latency, while readers
    # load the viewer and submissions stream into the enrolment workers
    school = pairs[0][2]
    with ExitStack() as load:
        reading = load.enter_context(
            live.running(live.readers, settings, stack.urls["viewer"], pairs)
        )
        ingesting = load.enter_context(
            live.running(
                live.submissions,
                settings_as("school", stack, settings),
                school,
                live.SUBMISSIONS_PER_SECOND,
            )
        )
        revoked = asyncio.run(
            revocation.revoke_to_deny(
                stack.urls, kafka, settings.redis_url, tokens, pairs, revocations
            )
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
            target=targets.REVOKE,
            met=targets.revoke_met(deny.get("p99", float("inf")), revoked["not_denied_in_time"]),
            details={
                "revoke_to_deny": deny,
                "produce_to_consume": bare,
                "revoke_to_topic": harness.percentiles(revoked["revoke_to_topic_ms"]),
                "hops": hops.summarise(revoked["hops_ms"], harness.percentiles),
                "granted": revoked["granted"],
                "allowed_before_revoking": revoked["allowed_before_revoking"],
                "not_denied_in_time": revoked["not_denied_in_time"],
                "load": {"report_page_readers": reading, "submissions": ingesting},
                "method": "8 revocations in flight at a time, each timed from the revoke "
                "call's answer to the first denied check, while 16 clients read report pages and "
                f"{live.SUBMISSIONS_PER_SECOND:,} submissions a second stream in (bench/live.py); "
                "revoke_to_topic: to the revoked grant's change on iris.access.grants; "
                "hops: " + hops.HOPS,
            },
        ),
        revoke_to_deny_ms=revoked["revoke_to_deny_ms"],
        revoke_to_topic_ms=revoked["revoke_to_topic_ms"],
        produce_to_consume_ms=broker,
    )
