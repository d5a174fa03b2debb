"""A viewer worker killed with SIGKILL while grants change: the other worker takes its
partitions, and the cache ends equal to the reference model of every event."""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import date

from iris.contracts import ACCESS_GRANTS, ENROLMENT_CHANGES, REPORT_CHANGES
from iris.insz import make_insz
from services.viewer import domain
from services.viewer.cache import AuthCache
from tests.e2e.test_operations import RESPONSIBLE, SCHOOL, prepare_pupil
from tests.support import TopicReader, wait_until

PUPILS = [make_insz("2013-10-11", 300 + i) for i in range(8)]
PERSONS = [make_insz("1993-04-05", 300 + i) for i in range(6)]
OUTSIDER = make_insz("1994-06-07", 300)


def reference(staged) -> domain.State:
    events = []
    for topic in (ENROLMENT_CHANGES, REPORT_CHANGES, ACCESS_GRANTS):
        reader = TopicReader("", topic.name, **staged.kafka())
        try:
            events += [topic.parse(m.raw) for m in reader.read_to_end()]
        finally:
            reader.close()
    return domain.fold(events)


def disagreements(staged, state: domain.State) -> list[tuple]:
    today = date.today().isoformat()

    async def check_all() -> list[tuple]:
        cache = AuthCache.from_url(staged.settings.redis_url)
        try:
            wrong = []
            for person in [*PERSONS, OUTSIDER]:
                for pupil in PUPILS:
                    expected = domain.may_view(person, pupil, today, state, None)
                    got = await cache.check(person, pupil, today, None)
                    if got != expected:
                        wrong.append((person, pupil, got, expected))
            return wrong
        finally:
            await cache.close()

    return asyncio.run(check_all())


def test_a_viewer_worker_killed_mid_fold_leaves_the_cache_equal_to_the_reference(staged, http):
    content = {"needs": "n", "advice": "a", "measures_taken": "m", "reasoning": "r"}
    for pupil in PUPILS:
        prepare_pupil(staged, http, pupil, content)
    responsible = staged.headers(RESPONSIBLE, school_admin_of=[SCHOOL])
    grants_url = f"{staged.urls['access']}/v1/schools/{SCHOOL}/grants"
    rng = random.Random(7)
    changes = threading.Event()

    def churn() -> None:
        for round_ in range(60):
            person = PERSONS[round_ % len(PERSONS)]
            scope = rng.sample(PUPILS, rng.randint(1, 3)) if rng.random() < 0.6 else None
            body = {"person_id": person, "role": "teacher", "valid_from": "2026-09-01"}
            made = http.post(grants_url, headers=responsible, json=body | {"pupil_ids": scope})
            assert made.status_code == 200, made.text
            if rng.random() < 0.4:
                revoke = f"{grants_url}/{made.json()['grant_id']}/revoke"
                assert http.post(revoke, headers=responsible, json={}).status_code == 200
            if round_ == 20:
                changes.set()

    writer = threading.Thread(target=churn, daemon=True)
    writer.start()
    changes.wait(120)
    victim = staged.stack.child("viewer-worker")
    victim.process.kill()  # SIGKILL, mid-fold
    writer.join(300)
    assert not writer.is_alive()

    state = reference(staged)
    wait_until(
        lambda: not disagreements(staged, state),
        timeout=90,
        interval=0.5,
        message="the surviving worker to fold every change",
    )
    staged.stack.restart("viewer-worker")
    assert not disagreements(staged, reference(staged))
