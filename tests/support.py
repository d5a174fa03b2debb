"""Helpers the tests share: polling with a deadline, reading topics, tokens, processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, TypeVar

from kafka import KafkaConsumer, TopicPartition

from iris.auth import SigningKey, mint
from iris.db import make_engine, make_sessionmaker
from iris.outbox import backlog
from iris.settings import DEFAULT_AUDIENCE, INTERNAL_AUDIENCE, Settings

T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    timeout: float = 20.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; last: {last!r}")


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    raw: bytes
    headers: list[tuple[str, bytes]]
    timestamp_ms: int = 0

    @property
    def value(self) -> dict[str, Any]:
        """The JSON object the message holds; empty for a tombstone (no value, on a
        compacted topic) and for a value that is no JSON object (the tests share their
        topics, and some publish poison on purpose)."""
        try:
            found = json.loads(self.raw) if self.raw is not None else {}
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    @property
    def pupil(self) -> str | None:
        """The pupil of a key that starts with one (`iris.enrolment.changes`: pupil:school)."""
        return self.key.split(":", 1)[0] if self.key is not None else None


class TopicReader:
    """Reads whole topics from the beginning with kafka-python (no consumer group)."""

    def __init__(self, bootstrap: str, topic: str, **connection: Any) -> None:
        """`connection`: TLS and SASL settings (iris.kafka.connection_options)."""
        self.topic = topic
        connection.setdefault("bootstrap_servers", bootstrap)
        self.consumer = KafkaConsumer(
            **connection,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=200,
        )
        partitions = None
        deadline = time.monotonic() + 20
        while not partitions and time.monotonic() < deadline:
            partitions = self.consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.1)
        assert partitions, f"topic {topic} does not exist"
        self.partitions = [TopicPartition(topic, p) for p in sorted(partitions)]
        self.consumer.assign(self.partitions)
        self.consumer.seek_to_beginning()
        self.messages: list[Message] = []

    def poll(self) -> list[Message]:
        fresh = []
        batches = self.consumer.poll(timeout_ms=200, max_records=10000)
        for records in batches.values():
            for r in records:
                fresh.append(
                    Message(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.key.decode() if r.key else None,
                        r.value,
                        list(r.headers or []),
                        r.timestamp,
                    )
                )
        self.messages.extend(fresh)
        return fresh

    def read_until(
        self,
        predicate: Callable[[list[Message]], bool],
        timeout: float = 30.0,
        message: str = "messages",
    ) -> list[Message]:
        def check() -> bool:
            self.poll()
            return predicate(self.messages)

        wait_until(check, timeout=timeout, interval=0.0, message=message)
        return self.messages

    def read_to_end(self, timeout: float = 30.0) -> list[Message]:
        """Read up to the partitions' end offsets as they are now."""
        ends = self.consumer.end_offsets(self.partitions)

        def at_end() -> bool:
            self.poll()
            return all(self.consumer.position(tp) >= end for tp, end in ends.items())

        wait_until(at_end, timeout=timeout, interval=0.0, message=f"the end of {self.topic}")
        return self.messages

    def close(self) -> None:
        self.consumer.close()


class ServiceTopic(TopicReader):
    """A topic that one service publishes through its outbox."""

    def __init__(self, settings: Settings, service: str, topic: str, **connection: Any) -> None:
        super().__init__(settings.kafka_bootstrap, topic, **connection)
        self.service = service
        self.outbox = import_module(f"services.{service}.models").Outbox
        self.engine = make_engine(settings.database_url_for(service))
        self.sessions = make_sessionmaker(self.engine)

    def settled(self, timeout: float = 30.0) -> list[Message]:
        """Everything the service has committed, read off the topic: its outbox has sent every
        row (a row is marked sent only once the broker acknowledged it), then the topic is
        read to its end."""
        wait_until(
            lambda: backlog(self.sessions, self.outbox) == 0,
            timeout=timeout,
            message=f"the {self.service} outbox to be sent",
        )
        return self.read_to_end(timeout=timeout)

    def close(self) -> None:
        super().close()
        self.engine.dispose()


def consumed(bootstrap: str, group: str, topic: str, timeout: float = 60.0) -> None:
    """Wait until consumer group `group` has committed every message `topic` holds now.
    The committed offsets are fetched without joining the group (nothing is assigned)."""
    reader = TopicReader(bootstrap, topic)
    group_view = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        ends = reader.consumer.end_offsets(reader.partitions)

        def caught_up() -> bool:
            return all((group_view.committed(tp) or 0) >= end for tp, end in ends.items())

        wait_until(caught_up, timeout=timeout, interval=0.2, message=f"{group} to consume {topic}")
    finally:
        group_view.close()
        reader.close()


class Issuer:
    """A development issuer for the tests: its JWKS is a file the services read."""

    def __init__(self, directory: Path, issuer: str = "http://issuer.test") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.issuer = issuer
        self.key = SigningKey.generate()
        self.jwks_path = directory / "jwks.json"
        # a key the issuer published once and removed: its tokens must be refused
        self.retired = SigningKey.generate()
        self.publish(self.retired, self.key)
        self.publish(self.key)

    @property
    def jwks_url(self) -> str:
        return self.jwks_path.resolve().as_uri()

    def publish(self, *keys: SigningKey) -> None:
        """Make these keys, and only these, the issuer's JWKS."""
        tmp = self.jwks_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"keys": [k.jwk() for k in keys]}))
        tmp.replace(self.jwks_path)

    def rotate(self) -> SigningKey:
        """Sign with a new key and publish only that one: the old key is removed."""
        old, self.key = self.key, SigningKey.generate()
        self.publish(self.key)
        return old

    def token(
        self, sub: str, audience: str = DEFAULT_AUDIENCE, ttl: int = 600, **claims: Any
    ) -> str:
        """A token for `sub`; a person (no client, network or service claim) signed in
        with itsme unless `amr` says otherwise (`amr=None`: no amr at all)."""
        if not {"school_id", "support_network", "service"} & claims.keys():
            claims.setdefault("amr", ["itsme"])
        return mint(self.key, self.issuer, sub, audience, ttl_seconds=ttl, **claims)

    def headers(self, sub: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(sub, **claims)}"}

    def school_client(self, school_id: str) -> dict[str, str]:
        return self.headers(f"client:{school_id}", school_id=school_id)

    def service(self, name: str) -> dict[str, str]:
        return self.headers(f"service:{name}", audience=INTERNAL_AUDIENCE, service=name)


@contextmanager
def issuer_over_http(directory: Path) -> Iterator[tuple[Issuer, list[str]]]:
    """An issuer at http://127.0.0.1:<port> that serves OIDC discovery and its JWKS where
    the discovery document says (not at <issuer>/jwks.json), as Keycloak does; also the
    list of paths requested, to count the fetches."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    requested: list[str] = []
    holder: dict[str, Issuer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer = holder["issuer"]
            requested.append(self.path)
            if self.path == "/.well-known/openid-configuration":
                body = json.dumps(
                    {"issuer": issuer.issuer, "jwks_uri": f"{issuer.issuer}{JWKS_PATH}"}
                ).encode()
            elif self.path == JWKS_PATH:
                body = issuer.jwks_path.read_bytes()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["issuer"] = Issuer(directory, issuer=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["issuer"], requested
    finally:
        server.shutdown()
        server.server_close()


JWKS_PATH = "/protocol/openid-connect/certs"


@contextmanager
def iris_process(
    args: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `iris <args>` as a child process for the duration of the block."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "iris.cli", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
