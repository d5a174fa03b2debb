"""The outbox relay publishes in order per key, once, and elects one publisher among the
relays of a service: by an advisory lock on PostgreSQL, by a file lock with SQLite."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from iris.contracts import ENROLMENT_CHANGES, EnrolmentChanged
from iris.db import make_engine, make_sessionmaker, transaction, upgrade
from iris.insz import make_insz
from iris.outbox import OutboxRelay, add_event, backlog
from iris.registry import SERVICES
from services.enrolment.models import Outbox
from tests.support import TopicReader


def queue_changes(sessions, run: str, pupils: list[str], versions: int) -> None:
    with transaction(sessions) as session:
        for version in range(1, versions + 1):
            for pupil in pupils:
                add_event(
                    session,
                    Outbox,
                    ENROLMENT_CHANGES,
                    pupil,
                    EnrolmentChanged(
                        pupil_id=pupil,
                        school_id="1",
                        start_date="2026-09-01",  # type: ignore[arg-type]
                        display_name=run,
                        version=version,
                    ),
                )


async def run_relays(relays: list[OutboxRelay], until) -> None:
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while not until() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
    finally:
        for relay in relays:
            await relay.stop()
        await asyncio.gather(*tasks)


@pytest.fixture(params=["postgresql", "sqlite"])
def shared_database(request, make_settings, infra, tmp_path):
    """Settings whose enrolment database two relays share: the test PostgreSQL, or a file."""
    if request.param == "postgresql":
        if infra.dialect != "postgresql":
            pytest.skip("the test infrastructure has no PostgreSQL")
        settings = make_settings("enrolment")
    else:
        settings = make_settings("enrolment", database_url=f"sqlite:///{tmp_path}/enrolment.db")
    upgrade(SERVICES["enrolment"].migrations_dir, settings.database_url_for("enrolment"))
    return settings


def test_two_relays_publish_every_event_exactly_once_in_order_per_key(shared_database, infra):
    settings = shared_database
    engines = [make_engine(settings.database_url_for("enrolment")) for _ in range(2)]
    sessions = [make_sessionmaker(engine) for engine in engines]
    run = uuid.uuid4().hex
    pupils = [make_insz("2016-09-09", serial) for serial in range(1, 41)]
    queue_changes(sessions[0], run, pupils, versions=5)
    reader = TopicReader(infra.kafka_bootstrap, "iris.enrolment.changes")

    relays = [OutboxRelay("enrolment", s, Outbox, settings) for s in sessions]
    asyncio.run(run_relays(relays, until=lambda: backlog(sessions[0], Outbox) == 0))

    assert backlog(sessions[0], Outbox) == 0
    assert sorted(r.published for r in relays) == [0, 200], "exactly one relay published"
    reader.read_until(
        lambda ms: sum(m.value.get("display_name") == run for m in ms) >= 200, message="200 events"
    )
    reader.read_to_end()  # the backlog is empty: every event is on the topic
    ours = [m for m in reader.messages if m.value.get("display_name") == run]
    assert Counter(Counter((m.key, m.value["version"]) for m in ours).values()) == {1: 200}
    for pupil in pupils:
        assert [m.value["version"] for m in ours if m.key == pupil] == [1, 2, 3, 4, 5]
    reader.close()
    for engine in engines:
        engine.dispose()


def test_the_relay_whose_process_commits_publishes_at_once_while_the_other_stays_idle(
    shared_database, infra
):
    settings = shared_database
    engines = [make_engine(settings.database_url_for("enrolment")) for _ in range(2)]
    sessions = [make_sessionmaker(engine) for engine in engines]
    writer, idle = (OutboxRelay("enrolment", s, Outbox, settings) for s in sessions)
    writer.claim_after = idle.claim_after = 3600.0  # only a commit's wake-up elects here
    run = uuid.uuid4().hex
    pupils = [make_insz("2016-10-10", serial) for serial in range(1, 11)]

    async def scenario() -> None:
        tasks = [asyncio.create_task(relay.run()) for relay in (writer, idle)]
        try:
            loop = asyncio.get_running_loop()
            for version in (1, 2):
                await asyncio.to_thread(queue_changes, sessions[0], f"{run}-{version}", pupils, 1)
                writer.notify()
                deadline = loop.time() + 30
                while backlog(sessions[0], Outbox) and loop.time() < deadline:
                    await asyncio.sleep(0.05)
        finally:
            for relay in (writer, idle):
                await relay.stop()
            await asyncio.gather(*tasks)

    asyncio.run(scenario())
    assert backlog(sessions[0], Outbox) == 0
    assert (writer.published, idle.published) == (20, 0)
    for engine in engines:
        engine.dispose()
