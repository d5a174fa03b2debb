"""Rebuilding the authorisation cache from the beginning of the three change topics.

One rebuild at a time: a rebuild first takes the rebuilding lease (a token set only
if absent, with a TTL it keeps extending while it works); every other worker waits for
the ready marker meanwhile. The rebuild reads every partition from its first offset to
the end offset it saw when it began (a plain aiokafka consumer, no group), folds what it
reads, and then sets the ready marker with those end offsets, but only if it still holds
the lease (a flush in between removes it, and the rebuild starts again). The faust
agents keep folding new events while a rebuild runs: folding is order-independent, so
both may write.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from iris.contracts import (
    ACCESS_GRANTS,
    ENROLMENT_CHANGES,
    REPORT_CHANGES,
    VIEWER_REJECTED,
    Forgotten,
    Topic,
    describe_error,
)
from iris.kafka import connection_options, describe_partitions, ensure_topics, make_admin
from iris.settings import Settings
from services.viewer.cache import AuthCache
from services.viewer.encoding import fold_rows

log = logging.getLogger(__name__)

# Change events the viewer worker could not parse, with the reason (the viewer's own topic).
CHANGE_TOPICS: tuple[Topic, ...] = (ENROLMENT_CHANGES, REPORT_CHANGES, ACCESS_GRANTS)
_BY_NAME = {t.name: t for t in CHANGE_TOPICS}


def parse_change(
    topic: str, value: bytes | None, key: bytes | None = None
) -> tuple[Any | None, str | None]:
    """The parsed event (a tombstone: `Forgotten`), or None and the reason it does not
    parse."""
    if value is None and key and _BY_NAME[topic].compacted:
        return Forgotten(topic, key.decode("utf-8", errors="replace")), None
    try:
        return _BY_NAME[topic].parse(value or b""), None
    except ValidationError as exc:
        return None, describe_error(exc)


AGENTS_GROUP = "iris-viewer"  # the faust app id, which is its consumer group
STALL_SECONDS = 10.0
# The rebuilding lease's TTL: a rebuilder that dies frees it this long after at most.
REBUILD_LEASE_SECONDS = 10.0


@dataclass
class Phases:
    """Where a rebuild's time went, in seconds: waiting for the broker's fetches, parsing
    and validating the events and writing the fold's rows (this process's CPU), and
    waiting for Redis to finish folding the previous batch (one batch folds while the
    next is read). Logged with "authorisation cache rebuilt"."""

    fetch: float = 0.0
    parse: float = 0.0
    fold_wait: float = 0.0

    def as_log(self) -> dict[str, float]:
        return {f"{k}_seconds": round(v, 3) for k, v in asdict(self).items()}


class Outcome(Enum):
    READY = "ready"  # this rebuild marked the cache ready
    ELSEWHERE = "elsewhere"  # another rebuild holds the lease
    NOT_READY = "not ready"  # overtaken by a flush, or a partition not read to its end


def change_consumer(settings: Settings, **options: Any) -> AIOKafkaConsumer:
    """A consumer in no group, as the rebuild and the freshness lease read the topics."""
    return AIOKafkaConsumer(
        **connection_options(settings),
        group_id=None,
        enable_auto_commit=False,
        **options,
    )


async def agents_committed(
    admin: AIOKafkaAdminClient, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The offsets the viewer's agents have committed on `partitions`, asked through a
    started admin client; a partition without a committed offset is left out."""
    found = await admin.list_consumer_group_offsets(AGENTS_GROUP, partitions=partitions)
    return {tp: meta.offset for tp, meta in found.items() if meta is not None and meta.offset >= 0}


async def agents_committed_once(
    settings: Settings, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """`agents_committed` through an admin client of its own, for a one-off question;
    none when unknown (no group yet, or the broker cannot say)."""
    admin = make_admin(settings)
    try:
        await admin.start()
        return await agents_committed(admin, partitions)
    except Exception as exc:  # the end offsets stand
        log.info("agents' committed offsets unknown", extra={"error": repr(exc)})
        return {}
    finally:
        await admin.close()


CHANGE_TOPIC_NAMES = tuple(topic.name for topic in CHANGE_TOPICS)


async def change_partitions(
    settings: Settings, topics: tuple[str, ...] = CHANGE_TOPIC_NAMES
) -> list[TopicPartition]:
    """The partitions of the change topics, asked of the cluster."""
    admin = make_admin(settings)
    try:
        await admin.start()
        found = await describe_partitions(admin, list(topics))
    finally:
        await admin.close()
    if not found:
        raise LookupError("the change topics' partitions are not known yet")
    return found


async def rebuild(
    cache: AuthCache, settings: Settings, batch: int = 2000, phases: Phases | None = None
) -> bool:
    """Fold the three topics from their beginning; True when the cache was marked ready.
    `phases`, when given, is where the time went."""
    return await rebuild_once(cache, settings, batch, phases=phases) is Outcome.READY


async def rebuild_once(
    cache: AuthCache,
    settings: Settings,
    batch: int = 2000,
    if_missing: bool = False,
    phases: Phases | None = None,
) -> Outcome:
    """Rebuild unless another rebuild is in progress (or, `if_missing`, has just marked
    the cache ready)."""
    token = uuid.uuid4().hex
    if not await cache.claim_rebuild(token, REBUILD_LEASE_SECONDS, if_missing):
        return Outcome.ELSEWHERE
    log.warning("rebuilding the authorisation cache")
    holding = asyncio.create_task(_hold(cache, token))
    outcome = Outcome.NOT_READY
    try:
        outcome = await _rebuild_holding(cache, settings, batch, token, holding, phases or Phases())
    finally:
        holding.cancel()
        if outcome is not Outcome.READY:
            try:
                await cache.release_rebuild(token)
            except Exception as exc:  # the lease's TTL frees it anyway
                log.info("rebuilding lease not released", extra={"error": repr(exc)})
    return outcome


async def _hold(cache: AuthCache, token: str) -> None:
    """Extend the rebuilding lease until cancelled; returns when it is lost."""
    while True:
        await asyncio.sleep(REBUILD_LEASE_SECONDS / 4)
        try:
            held = await cache.hold_rebuild(token, REBUILD_LEASE_SECONDS)
        except Exception as exc:  # cannot tell whether it is still ours: assume not
            log.warning("rebuilding lease not extended", extra={"error": repr(exc)})
            held = False
        if not held:
            log.warning("rebuilding lease lost (Redis flushed or unreachable); abandoning")
            return


async def _rebuild_holding(
    cache: AuthCache,
    settings: Settings,
    batch: int,
    token: str,
    holding: asyncio.Task[None],
    phases: Phases,
) -> Outcome:
    started = time.monotonic()
    run_id = await cache.redis_run_id()
    dropped = await cache.drop_older_layouts()
    if dropped:
        log.info("keys of an older cache layout removed", extra={"keys": dropped})
    await ensure_topics(settings, (*CHANGE_TOPICS, VIEWER_REJECTED))
    consumer = change_consumer(
        settings,
        auto_offset_reset="earliest",
        client_id="iris-viewer-rebuild",
        # large fetches: a rebuild reads everything, latency does not matter
        max_partition_fetch_bytes=4 << 20,
        fetch_max_bytes=32 << 20,
    )
    await consumer.start()
    try:
        read = await _read_to_end(cache, settings, consumer, batch, holding, phases)
    finally:
        await _stop(consumer)
    if read is None:
        return Outcome.NOT_READY
    ends, folded = read
    marker = {
        "offsets": {f"{tp.topic}:{tp.partition}": end for tp, end in ends.items()},
        "rebuilt_at": datetime.now(UTC).isoformat(),
        "events": folded,
        "redis_run_id": run_id,
    }
    ready = await cache.finish_rebuild(token, marker)
    log.info(
        "authorisation cache rebuilt" if ready else "rebuild overtaken by a flush; again",
        extra={
            "events": folded,
            "seconds": round(time.monotonic() - started, 3),
            **phases.as_log(),
        },
    )
    return Outcome.READY if ready else Outcome.NOT_READY


async def _position(consumer: AIOKafkaConsumer, tp: TopicPartition) -> float:
    """The consumer's position on `tp`; minus infinity while it cannot say within a second
    (it waits for ever for a position the fetcher never resets), which counts as no
    progress, so that such a partition ends in the rebuild's stall."""
    try:
        # `asyncio.timeout`, not `wait_for`: Python 3.11's `wait_for` swallows a
        # cancellation that arrives as the position does.
        async with asyncio.timeout(1.0):
            return float(await consumer.position(tp))
    except TimeoutError:
        return float("-inf")


async def _stop(consumer: AIOKafkaConsumer) -> None:
    """Stop the rebuild's consumer, leaving it behind after STALL_SECONDS: a consumer that
    does not stop must not keep the worker from rebuilding again."""
    stopping = asyncio.ensure_future(consumer.stop())
    done, _ = await asyncio.wait({stopping}, timeout=STALL_SECONDS)
    if not done:
        log.warning("the rebuild's Kafka consumer did not stop; left behind")


async def _read_to_end(
    cache: AuthCache,
    settings: Settings,
    consumer: AIOKafkaConsumer,
    batch: int,
    holding: asyncio.Task[None],
    phases: Phases,
) -> tuple[dict[TopicPartition, int], int] | None:
    """Fold every partition up to its end offset; the end offsets and the number of events
    folded, or None when the lease was lost or a partition could not be read to its end."""
    partitions = await change_partitions(settings)
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    # Read at least as far as the agents have committed: what they folded before a
    # flush must be folded again, even where a broker reports a stale end offset.
    for tp, committed in (await agents_committed_once(settings, partitions)).items():
        ends[tp] = max(ends[tp], committed)
    pending = {tp for tp in partitions if ends[tp] > 0}
    folded = 0
    last_progress = time.monotonic()
    # One batch folds in Redis while the next is read and parsed: folding is
    # order-independent, so batches need not wait for each other, but at most one
    # is in flight so that memory stays bounded.
    folding: asyncio.Future[None] | None = None
    try:
        while True:
            for tp in list(pending):
                if (await _position(consumer, tp)) >= ends[tp]:
                    pending.discard(tp)
            if not pending or holding.done():
                break
            if time.monotonic() - last_progress > STALL_SECONDS:
                # Never ready with a partition unread: it may hold a revocation.
                log.warning(
                    "rebuild abandoned: the broker does not serve offsets up to the end",
                    extra={"partitions": sorted(f"{t.topic}:{t.partition}" for t in pending)},
                )
                return None
            began = time.perf_counter()
            records = await consumer.getmany(*pending, timeout_ms=500, max_records=batch)
            fetched = time.perf_counter()
            phases.fetch += fetched - began
            if any(records.values()):
                last_progress = time.monotonic()
            events = [
                event
                for tp, messages in records.items()
                for m in messages
                if m.offset < ends[tp]
                # the agents reject what does not parse
                for event in [parse_change(tp.topic, m.value, m.key)[0]]
                if event is not None
            ]
            rows = fold_rows(events)
            phases.parse += time.perf_counter() - fetched
            if rows:
                if folding is not None:
                    await _timed(folding, phases)
                folding = asyncio.ensure_future(cache.apply(rows))
                folded += len(events)
        if folding is not None:
            await _timed(folding, phases)
            folding = None
    finally:
        if folding is not None:
            folding.cancel()
    return None if holding.done() else (ends, folded)


async def _timed(folding: asyncio.Future[None], phases: Phases) -> None:
    began = time.perf_counter()
    await folding
    phases.fold_wait += time.perf_counter() - began


async def keep_ready(
    cache: AuthCache,
    settings: Settings,
    built: asyncio.Event | None = None,
    interval: float = 0.2,
) -> None:
    """Rebuild at start and whenever the cache is lost; never returns.

    Lost means: the ready marker is missing (Redis flushed, or restarted empty), or it
    was written under another Redis process (restarted from an older snapshot, which
    may lack changes the agents had already folded and committed). At start the cache
    is rebuilt too; a marker of the same Redis process keeps serving meanwhile, since
    folding again changes nothing that is current. While another worker rebuilds, this
    one waits for its marker (that rebuild began after this worker started, so it also
    stands for this worker's own rebuild at start).

    `built` is set while the marker is this Redis's own, and cleared otherwise: the
    freshness lease is renewed only while it is set.
    """
    built = built or asyncio.Event()
    refreshed = waiting = False
    while True:
        try:
            marker = await cache.ready_marker()
            run_id = await cache.redis_run_id()
            if marker is None or marker.get("redis_run_id") != run_id:
                built.clear()
                if marker is not None:
                    log.warning("ready marker of another Redis process; not trusted")
                    await cache.unmark_ready()
                outcome = await rebuild_once(cache, settings, if_missing=True)
            elif not refreshed:
                built.set()
                outcome = await rebuild_once(cache, settings)
            else:
                built.set()
                outcome = None
            if outcome is Outcome.ELSEWHERE and not waiting:
                log.info("another worker is rebuilding the authorisation cache; waiting")
            waiting = outcome is Outcome.ELSEWHERE
            refreshed = refreshed or outcome in (Outcome.READY, Outcome.ELSEWHERE)
            if outcome is Outcome.READY:
                continue
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis or the broker away: the checks deny meanwhile
            built.clear()
            log.warning("cache rebuild failed; retrying", extra={"error": repr(exc)})
            await asyncio.sleep(1.0)
        _stop_if_cancelled()
        await asyncio.sleep(interval)


def _stop_if_cancelled() -> None:
    """Python 3.11's `wait_for` can swallow a cancellation that meets its inner result;
    the task still says it is being cancelled, and the loop stops here. The rebuild's
    own code uses `asyncio.timeout`, but redis-py sends every command under `wait_for`
    when a socket timeout is set, as the viewer's client does (scripts.TIMEOUTS)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
