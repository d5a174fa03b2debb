"""`iris stage`: the production topology on one machine, for tests and measurements.

- Apache Kafka: three KRaft nodes on loopback with SASL/SCRAM, one user per service and
  ACLs that give each only what it needs (`iris.kafka_acls`); topics with replication
  factor 3 and min.insync.replicas 2; idempotent producers with acks=all.
- PostgreSQL: the machine's server (started when it is down and this is root), one
  database per service, migrated with Alembic as the production migration job does.
- Redis: a Redis Cluster of three masters and three replicas from the machine's
  `redis-server`.
- Two replicas of every API and every worker, with `IRIS_ENV=production` settings, apart
  from the local OIDC issuer (`IRIS_ALLOW_LOCAL_ISSUER`).

State, logs and the generated credentials live under `<data dir>/stage`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from iris import infra, kafka_acls
from iris.apache_kafka import ApacheKafka, Sasl
from iris.auth import SigningKey
from iris.db import make_engine, make_sessionmaker, normalise_url, transaction
from iris.dev import Stack, port_for
from iris.kafka import connection_options
from iris.settings import Settings
from services.access import service_clients

BROKERS = 3
REPLICAS = 2
KAFKA_PORT = 29092
REDIS_PORT = 27001  # six consecutive ports; each cluster bus listens 10,000 higher
ISSUER_PORT = 8200
PORT_BASE = 8200  # + the service's dev port's last digit; replica 2 adds 10
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def kafka_users() -> dict[str, str]:
    names = ["broker", "controller", "admin", *kafka_acls.principals(kafka_acls.plan())]
    return {name: secrets.token_urlsafe(18) for name in names}


def port_range(env: dict[str, str], name: str, default: int, count: int) -> list[int]:
    """`IRIS_<NAME>_PORTS` (comma-separated), else `count` ports from `IRIS_<NAME>_PORT`."""
    listed = env.get(f"IRIS_{name.upper()}_PORTS")
    if listed:
        return [int(p) for p in listed.split(",")]
    first = port_for(env, name, default)
    return [first + i for i in range(count)]


def replica_port(env: dict[str, str], service: str, dev_port: int, replica: int) -> int:
    base = PORT_BASE + dev_port % 100 + 10 * (replica - 1)
    key = service if replica == 1 else f"{service}_{replica}"
    return port_for(env, key, base)


@dataclass
class Stage(Stack):
    """The stack of `iris dev` with production engines and two of everything."""

    users: dict[str, str] = field(default_factory=kafka_users)
    kafka: ApacheKafka | None = None
    redis: infra.RedisCluster | None = None
    databases: list[tuple[str, str]] = field(default_factory=list)  # (server, name)

    @property
    def stage_dir(self) -> Path:
        return self.data_dir / "stage"

    def start(self, ready_timeout: float = 180.0) -> None:
        env = self.env
        self.stage_dir.mkdir(parents=True, exist_ok=True)
        env.setdefault("IRIS_ISSUER_PORT", str(port_for(env, "issuer", ISSUER_PORT)))
        for spec in self.services:
            env.setdefault(
                f"IRIS_{spec.name.upper()}_PORT", str(replica_port(env, spec.name, spec.port, 1))
            )
        env.update(self._production_settings())
        super().start(ready_timeout)

    def _production_settings(self) -> dict[str, str]:
        key_file = self.stage_dir / "access-signing-key.pem"
        SigningKey.load_or_create(key_file)
        return {
            "IRIS_ENV": "production",
            "IRIS_ALLOW_LOCAL_ISSUER": "true",
            "IRIS_SESSION_SECRET": secrets.token_urlsafe(48),
            "IRIS_ACCESS_SIGNING_KEY_FILE": str(key_file),
            "IRIS_FORWARDED_ALLOW_IPS": "127.0.0.1",
            "IRIS_KAFKA_IDEMPOTENCE": "true",
            "IRIS_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "IRIS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "IRIS_TOPIC_REPLICATION_FACTOR": str(min(3, BROKERS)),
            "IRIS_TOPIC_MIN_INSYNC_REPLICAS": str(min(2, BROKERS)),
        }

    def settings(self) -> Settings:
        """The supervisor's own view: the Kafka admin user, the development issuer's key."""
        saved = dict(self.env)
        self.env.update(
            IRIS_ENV="test",
            IRIS_KAFKA_SASL_USERNAME="admin",
            IRIS_KAFKA_SASL_PASSWORD=self.users["admin"],
        )
        try:
            return super().settings()
        finally:
            self.env.clear()
            self.env.update(saved)

    def service_env(self, service: str) -> dict[str, str]:
        return {
            "IRIS_KAFKA_SASL_USERNAME": service,
            "IRIS_KAFKA_SASL_PASSWORD": self.users[service],
        }

    def _start_engines(self, env: dict[str, str]) -> None:
        self._start_kafka(env)
        self._databases(env)
        if not env.get("IRIS_REDIS_URL"):
            ports = port_range(env, "redis", REDIS_PORT, 6)
            self.redis = infra.start_redis_cluster(ports, self.stage_dir / "redis")
            self.infra.append(self.redis)
            env["IRIS_REDIS_URL"] = self.redis.url
            self.say(f"IRIS: Redis Cluster, 3 masters and 3 replicas at {self.redis.url}")

    def _start_kafka(self, env: dict[str, str]) -> None:
        self.kafka = ApacheKafka(
            self.stage_dir / "kafka",
            size=BROKERS,
            sasl=Sasl(self.users),
            ports=port_range(env, "broker", KAFKA_PORT, BROKERS),
        )
        self.kafka.start()
        self.infra.append(self.kafka)
        env["IRIS_KAFKA_BOOTSTRAP"] = self.kafka.bootstrap
        credentials = self.stage_dir / "kafka-users.json"
        credentials.write_text(json.dumps(self.users, indent=2))
        credentials.chmod(0o600)
        self.say(f"IRIS: Apache Kafka, {BROKERS} brokers at {self.kafka.bootstrap} (SASL/SCRAM)")
        self.say(f"IRIS: Kafka users and passwords in {credentials}")

    def _databases(self, env: dict[str, str]) -> None:
        server = env.pop("IRIS_DATABASE_URL", None) or env.get("IRIS_STAGE_POSTGRES_URL")
        server = server or DEFAULT_POSTGRES
        ensure_postgres_running(server)
        # named after the state folder: two stages on one server never share a database
        folder = zlib.crc32(str(self.data_dir.resolve()).encode())
        for spec in self.services:
            name = f"iris_stage_{spec.name}_{folder:08x}"
            env[f"IRIS_{spec.name.upper()}_DATABASE_URL"] = fresh_database(server, name)
            self.databases.append((server, name))

    def stop(self) -> None:
        """Stop every process, then drop the stage's databases: each start is fresh."""
        super().stop()
        for server, name in self.databases:
            with contextlib.suppress(SQLAlchemyError):  # a server already gone keeps them
                drop_database(server, name)
        self.databases.clear()

    def _prepare(self, settings: Settings) -> None:
        super()._prepare(settings)
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap,
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_plain_username="admin",
            sasl_plain_password=self.users["admin"],
        )
        try:
            kafka_acls.apply(admin, kafka_acls.plan())
        finally:
            admin.close()
        self.env.update(self._viewer_client(settings))

    def _viewer_client(self, settings: Settings) -> dict[str, str]:
        """The viewer's service client at the access service, as `iris clients add` makes
        it: the viewer exchanges it for its token for the reports service."""
        engine = make_engine(settings.database_url_for("access"))
        try:
            with transaction(make_sessionmaker(engine)) as session:
                row, secret = service_clients.register(session, "viewer")
                client_id = row.client_id
        finally:
            engine.dispose()
        return {"IRIS_SERVICE_CLIENT_ID": client_id, "IRIS_SERVICE_CLIENT_SECRET": secret}

    def _spawn_services(self, ports: dict[str, int], replica: str = "") -> None:
        super()._spawn_services(ports)
        for number in range(2, REPLICAS + 1):
            more = {
                spec.name: replica_port(self.env, spec.name, spec.port, number)
                for spec in self.services
            }
            super()._spawn_services(more, replica=f"-{number}")


def settings_as(principal: str, stack: Stack, settings: Settings | None = None) -> Settings:
    """The stack's settings, connecting to Kafka as `principal` (`school`, a service,
    `admin`) on `iris stage`; on a stack without SASL users (`iris dev`), unchanged."""
    settings = settings or stack.settings()
    users = getattr(stack, "users", None)
    if users is None:
        return settings
    return settings.model_copy(
        update={"kafka_sasl_username": principal, "kafka_sasl_password": users[principal]}
    )


def connection_options_as(
    principal: str, stack: Stack, settings: Settings | None = None
) -> dict[str, Any]:
    """Kafka connection options as `principal` on `iris stage` (see `settings_as`)."""
    return connection_options(settings_as(principal, stack, settings))


def ensure_postgres_running(server: str) -> None:
    if _postgres_answers(server):
        return
    if os.geteuid() == 0 and shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
        version = sorted(Path("/etc/postgresql").iterdir())[-1].name
        subprocess.run(  # noqa: S603
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],  # noqa: S607
            check=False,
        )
    if not _postgres_answers(server):
        raise RuntimeError(f"PostgreSQL at {make_url(server).host} does not answer")


def _postgres_answers(server: str) -> bool:
    engine = create_engine(normalise_url(server), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def drop_database(server: str, name: str) -> None:
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def fresh_database(server: str, name: str) -> str:
    """Drop and create database `name` on `server`; its URL."""
    drop_database(server, name)
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(normalise_url(server)).set(database=name).render_as_string(hide_password=False)
