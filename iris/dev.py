"""`iris dev`: the whole platform on embedded defaults, without Docker.

A small supervisor of our own rather than honcho: start-up has an order
(broker and Redis, then topics and migrations, then the issuer and the
services) and each step must be healthy before the next, which a Procfile
runner does not express. Every child writes JSON lines to
`<data dir>/logs/<name>.log`; if one dies, the stack stops and says which.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from iris import apache_kafka, infra
from iris.db import upgrade
from iris.kafka import ensure_topics, wait_for_broker
from iris.registry import ServiceSpec, available
from iris.settings import DEV_ISSUER_PORT, Settings


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str | None = None
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def launch(self) -> None:
        self.process = _popen(self.command, self.env, self.log_path)


def _popen(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        command,
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


def port_for(env: dict[str, str], name: str, default: int) -> int:
    return int(env.get(f"IRIS_{name.upper()}_PORT", default))


def dev_broker(env: dict[str, str]) -> str:
    """`kafka` or `tansu`: IRIS_DEV_BROKER, else Apache Kafka when it is installed."""
    chosen = env.get("IRIS_DEV_BROKER", "").lower()
    if chosen == "kafka" and not apache_kafka.installed():
        raise RuntimeError(
            "IRIS_DEV_BROKER=kafka, but Java or the Apache Kafka artefacts are missing "
            f"({apache_kafka.libs_dir()}; scripts/kafka-broker.sh fetches them)"
        )
    if chosen in ("kafka", "tansu"):
        return chosen
    return "kafka" if apache_kafka.installed() else "tansu"


@dataclass
class MailServer:
    controller: Any

    def stop(self, timeout: float = 5.0) -> None:
        self.controller.stop()


@dataclass
class Stack:
    """The platform's processes. Infrastructure comes from the environment when
    its URL is set there, else it is started locally."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    services: list[ServiceSpec] = field(default_factory=available)
    say: Callable[[str], None] = print
    children: list[Child] = field(default_factory=list)
    infra: list[infra.Stoppable] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    mail_folder: Path | None = None  # where the dev's SMTP server keeps the e-mail

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def start(self, ready_timeout: float = 120.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.env
        env["IRIS_DATA_DIR"] = str(self.data_dir.resolve())
        env.setdefault("IRIS_ENV", "development")
        self._start_engines(env)
        issuer_port = port_for(env, "issuer", DEV_ISSUER_PORT)
        env.setdefault("IRIS_OIDC_ISSUER", f"http://127.0.0.1:{issuer_port}")
        ports = {spec.name: port_for(env, spec.name, spec.port) for spec in self.services}
        if "access" in ports:
            env.setdefault("IRIS_CLIENT_ISSUER", f"http://127.0.0.1:{ports['access']}")
        for name, port in ports.items():
            env.setdefault(f"IRIS_{name.upper()}_URL", f"http://127.0.0.1:{port}")

        self._prepare(self.settings())
        self._spawn(
            "issuer",
            ["serve-issuer", "--port", str(issuer_port)],
            f"http://127.0.0.1:{issuer_port}",
            {"IRIS_ENV": "development"},
        )
        self._spawn_services(ports)
        if self.mail_folder is not None and "access" in ports:
            self._spawn_digests(env)
        self._wait_ready(ready_timeout)

    def _spawn_digests(self, env: dict[str, str]) -> None:
        """`iris notify` once a minute (`IRIS_DEV_DIGEST_SECONDS`), into the dev's SMTP server."""
        period = env.get("IRIS_DEV_DIGEST_SECONDS", "60")
        self._spawn("notify", ["notify", "--every", period], None, self.service_env("access"))
        self.say(
            f"IRIS: e-mail digests every {period} s (one a person a day) land in "
            f"{self.mail_folder}/new"
        )

    def _start_engines(self, env: dict[str, str]) -> None:
        if not env.get("IRIS_KAFKA_BOOTSTRAP"):
            self._start_broker(env)
        if not env.get("IRIS_REDIS_URL"):
            redis = infra.start_redis(port_for(env, "redis", 16379), self.data_dir)
            self.infra.append(redis)
            env["IRIS_REDIS_URL"] = redis.url
        if not env.get("IRIS_SMTP_HOST"):
            self._start_mail(env)

    def _start_mail(self, env: dict[str, str]) -> None:
        """An SMTP server (aiosmtpd, the `dev` extra) that keeps every e-mail IRIS sends
        (the digests of `iris notify`, which `start` runs every minute) as a file in a
        Maildir under the data folder."""
        try:
            from aiosmtpd.controller import Controller
            from aiosmtpd.handlers import Mailbox
        except ImportError:
            self.say("IRIS: no SMTP server (aiosmtpd is not installed); no e-mail is sent")
            return
        # any free port: people read the folder, and stacks on one machine never collide
        port = port_for(env, "smtp", 0) or infra.free_port()
        folder = (self.data_dir / "mail").resolve()
        server = Controller(Mailbox(folder), hostname="127.0.0.1", port=port)
        server.start()
        self.infra.append(MailServer(server))
        self.mail_folder = folder
        env["IRIS_SMTP_HOST"], env["IRIS_SMTP_PORT"] = "127.0.0.1", str(port)
        self.say(f"IRIS: SMTP server at 127.0.0.1:{port}; e-mail lands in {folder}/new")

    def _prepare(self, settings: Settings) -> None:
        """Topics and migrations, before any service starts."""
        asyncio.run(self._prepare_broker(settings))
        for spec in self.services:
            upgrade(spec.migrations_dir, settings.database_url_for(spec.name))

    def _spawn_services(self, ports: dict[str, int], replica: str = "") -> None:
        """One API and, where the service has one, one worker per service; `replica`
        tells the names of a second copy apart."""
        for spec in self.services:
            env = self.service_env(spec.name)
            name = f"{spec.name}{replica}"
            url = f"http://127.0.0.1:{ports[spec.name]}"
            self._spawn(name, ["api", spec.name, "--port", str(ports[spec.name])], url, env)
            if spec.has_worker:
                key = f"{spec.name}{replica.replace('-', '_')}_worker_metrics"
                metrics_port = port_for(self.env, key, 9000 + ports[spec.name] % 1000)
                self._spawn(
                    f"{spec.name}-worker{replica}",
                    ["worker", spec.name],
                    f"http://127.0.0.1:{metrics_port}",
                    {**env, "IRIS_WORKER_METRICS_PORT": str(metrics_port)},
                )

    def service_env(self, _service: str) -> dict[str, str]:
        """What a service's processes get beside the stack's environment."""
        return {}

    def _start_broker(self, env: dict[str, str]) -> None:
        """Apache Kafka where its artefacts are installed (`IRIS_DEV_BROKER=tansu` chooses
        the embedded broker anyway), else the embedded Tansu broker."""
        port = port_for(env, "broker", 19092)
        env.setdefault("IRIS_TOPIC_PARTITIONS", "3")
        if dev_broker(env) == "kafka":
            kafka = apache_kafka.ApacheKafka(self.data_dir / "kafka", ports=[port], keep=True)
            kafka.start()
            self.infra.append(kafka)
            env["IRIS_KAFKA_BOOTSTRAP"] = kafka.bootstrap
            env["IRIS_KAFKA_IDEMPOTENCE"] = "true"
            self.say(f"IRIS: Apache Kafka (KRaft) at {kafka.bootstrap}")
            return
        broker = infra.start_broker(port, self.log_dir)
        self.infra.append(broker)
        env["IRIS_KAFKA_BOOTSTRAP"] = broker.url
        env["IRIS_KAFKA_IDEMPOTENCE"] = "false"  # Tansu has no idempotent producer
        env.setdefault("IRIS_KAFKA_FETCH_MAX_WAIT_MS", str(infra.TANSU_FETCH_MAX_WAIT_MS))
        self.say(f"IRIS: embedded Tansu broker at {broker.url}")

    def settings(self) -> Settings:
        saved = dict(os.environ)
        try:
            os.environ.update(self.env)
            return Settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    async def _prepare_broker(self, settings: Settings) -> None:
        await wait_for_broker(settings)
        await ensure_topics(settings)

    def _spawn(
        self, name: str, args: list[str], url: str | None, extra: dict[str, str] | None = None
    ) -> None:
        command = [sys.executable, "-m", "iris.cli", *args]
        env = {**self.env, **(extra or {})}
        log_path = self.log_dir / f"{name}.log"
        process = _popen(command, env, log_path)
        self.children.append(Child(name, process, log_path, url, command, env))
        if url:
            self.urls[name] = url

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def restart(self, name: str, ready_timeout: float = 120.0) -> None:
        """Stop one process as an orchestrator would (SIGTERM, then SIGKILL after 15 s),
        start it again and wait until it is ready: one step of a rolling restart."""
        child = self.child(name)
        child.process.send_signal(signal.SIGTERM)
        try:
            child.process.wait(15)
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
        child.launch()
        self._wait_for([child], ready_timeout)

    def _announce(self, child: Child) -> None:
        """`<service> ready at <url>` for each API; a second replica says it is one."""
        if child.name == "issuer" or "-worker" in child.name:
            return
        service, _, replica = child.name.partition("-")
        label = f"{service} (replica {replica})" if replica else service
        self.say(f"{label} ready at {child.url}")

    def _wait_ready(self, timeout: float) -> None:
        self._wait_for([c for c in self.children if c.url], timeout, announce=True)

    def _wait_for(self, children: list[Child], timeout: float, announce: bool = False) -> None:
        deadline = time.monotonic() + timeout
        pending = [c for c in children if c.url]
        with httpx.Client(timeout=2.0) as client:
            while pending:
                self.check_children()
                for child in list(pending):
                    try:
                        answer = client.get(f"{child.url}/readyz")
                    except httpx.HTTPError:
                        continue
                    if answer.status_code == 200:
                        pending.remove(child)
                        if announce:
                            self._announce(child)
                if pending and time.monotonic() > deadline:
                    names = ", ".join(c.name for c in pending)
                    raise TimeoutError(
                        f"not ready after {timeout:.0f}s: {names} (see {self.log_dir})"
                    )
                if pending:
                    time.sleep(0.2)

    def check_children(self) -> None:
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                tail = child.log_path.read_text(errors="replace").splitlines()[-15:]
                raise RuntimeError(
                    f"{child.name} exited with {code}; last lines of {child.log_path}:\n"
                    + "\n".join(tail)
                )

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in reversed(self.children):
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        self.children.clear()
        for process in reversed(self.infra):
            process.stop()
        self.infra.clear()


def run(stack: Stack, seed: bool = True, what: str = "the embedded platform") -> int:
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    # Ctrl-C stops the platform even where the shell that started it ignores SIGINT for
    # its background jobs (a non-interactive `iris dev &`), which Python would inherit.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        print(f"IRIS: starting {what} (state and logs under {stack.data_dir})", flush=True)
        stack.start()
        if seed:
            from iris.seed import seed_demo_world

            seeded = seed_demo_world(stack)
            print(f"IRIS: demo world seeded ({', '.join(seeded)})", flush=True)
        print("IRIS is running; press Ctrl-C to stop.", flush=True)
        while not stopping:
            stack.check_children()
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"IRIS: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        print("IRIS: stopping…", flush=True)
        stack.stop()
        print("IRIS: stopped.", flush=True)
