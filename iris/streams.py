"""Faust apps with the join timeouts measured on the embedded broker, connected as every
Kafka client in IRIS is (TLS, SASL)."""

from __future__ import annotations

from typing import Any

import faust
from faust.transport import drivers
from faust.transport.drivers import aiokafka as faust_aiokafka

from iris.kafka import ssl_context
from iris.settings import Settings

IDEMPOTENT_SCHEME = "kafka+idempotent"


class IdempotentProducer(faust_aiokafka.Producer):
    """Faust's producer, idempotent outside transactions too: faust asks for idempotence
    only for exactly-once processing, but a worker's own messages (the enrolment worker's
    rejections) must not be doubled when a broker retries a send."""

    def _settings_extra(self) -> Any:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class IdempotentTransport(faust_aiokafka.Transport):
    Producer = IdempotentProducer


# faust picks its transport by the broker URL's scheme
drivers.TRANSPORTS.aliases.setdefault(IDEMPOTENT_SCHEME, f"{__name__}:IdempotentTransport")


def broker_credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    """The Kafka security settings (iris.kafka.connection_options) in faust's terms."""
    context = ssl_context(settings)
    if settings.kafka_security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def make_faust_app(app_id: str, settings: Settings, **overrides: Any) -> faust.App:
    datadir = settings.data_dir / "faust" / app_id
    datadir.mkdir(parents=True, exist_ok=True)
    # the embedded broker has no idempotent producer (IRIS_KAFKA_IDEMPOTENCE=false there)
    scheme = IDEMPOTENT_SCHEME if settings.kafka_idempotence else "kafka"
    options: dict[str, Any] = {
        "broker": [f"{scheme}://{h}" for h in settings.kafka_bootstrap.split(",")],
        "broker_credentials": broker_credentials(settings),
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
    _limit_fetch_wait(settings.kafka_fetch_max_wait_ms)
    return faust.App(app_id, **options)


def raw_topic(app: faust.App, name: str) -> Any:
    """A topic read and written as bytes: the workers parse and validate values themselves,
    so that one that does not parse is rejected with its reason instead of stopping them."""
    return app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )


def _limit_fetch_wait(wait_ms: int) -> None:
    """Faust's consumer waits up to 1,500 ms per fetch and offers no setting for it; the
    aiokafka consumer it creates takes the value from this attribute when it starts."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    create = AIOKafkaConsumerThread._create_worker_consumer
    if getattr(create, "_iris_fetch_wait", None) == wait_ms:
        return
    original = getattr(create, "_iris_original", create)

    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = wait_ms
        return consumer

    create_worker_consumer._iris_fetch_wait = wait_ms  # type: ignore[attr-defined]
    create_worker_consumer._iris_original = original  # type: ignore[attr-defined]
    AIOKafkaConsumerThread._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]
