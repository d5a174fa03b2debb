"""A worker's own messages (the enrolment worker's rejections) are sent by an idempotent
producer wherever the broker supports one, so a broker's retry never doubles them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from iris.settings import Settings
from iris.streams import make_faust_app


@pytest.mark.parametrize("idempotence", [True, False])
def test_the_faust_producer_is_idempotent_as_the_setting_says(tmp_path: Path, idempotence: bool):
    settings = Settings(
        kafka_bootstrap="127.0.0.1:9092", data_dir=tmp_path, kafka_idempotence=idempotence
    )
    app = make_faust_app("iris-test-streams", settings)

    async def idempotent() -> bool:
        producer = app.producer._new_producer()  # what faust starts for its sends
        # aiokafka keeps a transaction manager (producer id, sequence numbers) exactly
        # when the producer is idempotent
        return producer._txn_manager is not None

    assert asyncio.run(idempotent()) is idempotence
