"""Metrics and health for a faust worker: consumer lag per topic and partition.

A worker calls `serve_worker_metrics(app, settings, service, topics)` once, next
to its agents. When `IRIS_WORKER_METRICS_PORT` is set, the worker then serves

- `/metrics`: Prometheus text, with `iris_consumer_lag{topic,partition}`: the
  partition's end offset minus the offset the worker's consumer group has
  committed (minus the first retained offset when the group has committed
  nothing there yet), measured every `IRIS_WORKER_METRICS_INTERVAL` seconds;
- `/healthz`: 200 while the process runs;
- `/readyz`: 200 once lag was measured within the last three intervals (the
  broker answers), 503 otherwise.

The measurement uses its own Kafka connections (an admin client for the
group's committed offsets, a group-less consumer for end offsets), so it sees
what an operator sees and never disturbs the worker's consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from iris.kafka import connection_options, describe_partitions, make_admin
from iris.settings import Settings

log = logging.getLogger(__name__)

CONSUMER_LAG = Gauge(
    "iris_consumer_lag",
    "Messages in a partition that the worker's consumer group has not yet committed",
    ["topic", "partition"],
)
LAG_MEASURED = Gauge(
    "iris_consumer_lag_measured_timestamp_seconds",
    "When the consumer lag was last measured (Unix time)",
)


class LagMeter:
    """Measures a consumer group's lag on a set of topics."""

    def __init__(self, settings: Settings, group_id: str, topics: Iterable[str]) -> None:
        self.settings = settings
        self.group_id = group_id
        self.topics = sorted(set(topics))
        self.admin: AIOKafkaAdminClient | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.measured_at: float | None = None

    async def start(self) -> None:
        self.admin = make_admin(self.settings)
        await self.admin.start()
        self.consumer = AIOKafkaConsumer(
            **connection_options(self.settings), enable_auto_commit=False, request_timeout_ms=5000
        )
        await self.consumer.start()

    async def stop(self) -> None:
        consumer, admin = self.consumer, self.admin
        self.consumer = self.admin = None
        try:
            if consumer is not None:
                await consumer.stop()
        finally:
            if admin is not None:
                await admin.close()

    async def measure(self) -> dict[TopicPartition, int]:
        """Lag per partition; also sets the `iris_consumer_lag` gauges."""
        assert self.admin is not None and self.consumer is not None, "start() first"
        partitions = await describe_partitions(self.admin, self.topics)
        if not partitions:
            raise LookupError(f"none of {', '.join(self.topics)} has partitions")
        ends = await self.consumer.end_offsets(partitions)
        starts = await self.consumer.beginning_offsets(partitions)
        committed = await self.admin.list_consumer_group_offsets(
            self.group_id, partitions=partitions
        )
        lags = {}
        for tp in partitions:
            done = committed.get(tp)
            position = done.offset if done is not None and done.offset >= 0 else starts[tp]
            lags[tp] = max(ends[tp] - position, 0)
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lags[tp])
        self.measured_at = time.time()
        LAG_MEASURED.set(self.measured_at)
        return lags


def metrics_app(meter: LagMeter, interval: float) -> web.Application:
    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        fresh = meter.measured_at is not None and time.time() - meter.measured_at < 3 * interval
        if fresh:
            return web.json_response({"status": "ready"})
        return web.json_response(
            {"status": "not ready", "problems": {"kafka": "consumer lag not measured recently"}},
            status=503,
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def run_worker_metrics(
    settings: Settings, group_id: str, topics: Iterable[str], port: int
) -> None:
    """Serve the endpoints and measure lag until cancelled."""
    interval = settings.worker_metrics_interval
    meter = LagMeter(settings, group_id, topics)
    runner = web.AppRunner(metrics_app(meter, interval), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "0.0.0.0", port)
    await site.start()
    log.info("worker metrics listening", extra={"port": port})
    try:
        while True:
            try:
                if meter.consumer is None:
                    await meter.start()
                await meter.measure()
            except Exception as exc:
                log.warning("consumer lag not measured", extra={"error": repr(exc)})
                with contextlib.suppress(Exception):
                    await meter.stop()
            await asyncio.sleep(interval)
    finally:
        await meter.stop()
        await runner.cleanup()


def serve_worker_metrics(app: Any, settings: Settings, topics: Iterable[str]) -> None:
    """Register the metrics endpoint as a task of the faust `app` (off unless the port is set)."""
    port = settings.worker_metrics_port
    if not port:
        return
    names = list(topics)

    @app.task
    async def worker_metrics() -> None:
        await run_worker_metrics(settings, app.conf.id, names, port)
