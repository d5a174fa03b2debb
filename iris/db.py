"""SQL engines and migrations: PostgreSQL in deployment, a SQLite file per service locally."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

if TYPE_CHECKING:  # Alembic is imported where migrations run, not by every process
    from alembic.config import Config


class Base(DeclarativeBase):
    """Declarative base; every service keeps its own metadata by subclassing it abstractly."""


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        if ":memory:" not in url and "mode=memory" not in url:
            # One connection per process, handed over in FIFO order. Every transaction
            # takes the write lock at BEGIN anyway, so more connections add no concurrency:
            # they only make threads of the same process wait in SQLite's busy handler,
            # which sleeps in growing steps and leaves the lock idle between them.
            kwargs = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 60} | kwargs
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _serialise_sqlite_writers(engine)
        return engine
    # A database that is down must cost a request seconds, not minutes: connecting gives up
    # after 3 s and waiting for a pooled connection after 5 s; the API then answers 503.
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        connect_args={"connect_timeout": 3},
        **kwargs,
    )


def _serialise_sqlite_writers(engine: Engine) -> None:
    """Every SQLite transaction takes the write lock when it begins (BEGIN IMMEDIATE).

    Several processes share a service's file in the embedded stack; taking the
    lock up front makes read-then-write sequences (versions, outbox claims)
    serialisable instead of failing half-way with "database is locked".
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash of the
        # process loses nothing; a power cut may lose the last commits. SQLite serves the
        # embedded and test stacks only (production runs PostgreSQL).
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A connection marked `iris_read_only` (see iris.outbox.READ_ONLY) reads a WAL
        # snapshot statement by statement and leaves the write lock to the writers.
        if not conn.get_execution_options().get("iris_read_only"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session


def alembic_config(migrations_dir: Path, url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, url: str) -> None:
    """Bring the database at `url` to the newest migration (`alembic upgrade head`)."""
    from alembic import command

    command.upgrade(alembic_config(migrations_dir, url), "head")


def run_migrations(target_metadata: Any, version_table: str) -> None:
    """The body of every service's Alembic `env.py` (online mode)."""
    from alembic import context

    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from iris.settings import Settings

        url = Settings().database_url_for(version_table.removeprefix("alembic_version_"))
    engine = create_engine(normalise_url(url))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
