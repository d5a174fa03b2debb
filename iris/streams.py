"""Faust apps with the join timeouts measured on the embedded broker."""

from __future__ import annotations

from typing import Any

import faust

from iris.settings import Settings


def make_faust_app(app_id: str, settings: Settings, **overrides: Any) -> faust.App:
    datadir = settings.data_dir / "faust" / app_id
    datadir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        "broker": [f"kafka://{h}" for h in settings.kafka_bootstrap.split(",")],
        "store": "memory://",
        "datadir": str(datadir),
        "web_enabled": False,
        "broker_rebalance_timeout": 5,
        "broker_session_timeout": 6,
        "broker_heartbeat_interval": 1,
        "consumer_auto_offset_reset": "earliest",
        "topic_partitions": settings.topic_partitions or 6,
        "topic_allow_declare": False,
        "producer_acks": -1,
        "stream_wait_empty": False,
    }
    options.update(overrides)
    return faust.App(app_id, **options)
