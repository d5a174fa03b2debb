"""Faults on the production topology (`iris stage`), as operators meet them. Each test
leaves the stage whole again for the next. The pauses they print are figures for
docs/operations.md, never assertions."""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import orjson
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from iris.insz import make_insz
from tests.stage.conftest import Staged
from tests.support import TopicReader, wait_until

CHANGES = "iris.enrolment.changes"


def leaders(staged: Staged, topic: str) -> dict[int, int]:
    """Partition → the node that leads it."""
    admin = KafkaAdminClient(**staged.kafka())
    try:
        (described,) = admin.describe_topics([topic])
    finally:
        admin.close()
    return {p["partition_index"]: p["leader_id"] for p in described["partitions"]}


def fully_replicated(staged: Staged, topic: str) -> bool:
    admin = KafkaAdminClient(**staged.kafka())
    try:
        (described,) = admin.describe_topics([topic])
    finally:
        admin.close()
    return all(len(p["isr_nodes"]) == len(p["replica_nodes"]) for p in described["partitions"])


def submission(pupil: str, school: str) -> bytes:
    return orjson.dumps(
        {
            "type": "EnrolmentRegistered",
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "pupil_id": pupil,
            "school_id": school,
            "start_date": "2026-09-01",
            "source": "fault-test",
        }
    )


@dataclass
class Load:
    """Runs `step(i)` for i in range(count) on a thread; records what each answered."""

    step: Callable[[int], object]
    count: int
    results: list[object] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> Load:
        def run() -> None:
            for i in range(self.count):
                self.results.append(self.step(i))

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def join(self, timeout: float) -> list[object]:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the load did not finish"
        return self.results


def outbox_empty(http: httpx.Client, urls: list[str]) -> bool:
    """Every replica's outbox backlog gauge reads 0: nothing is left to publish."""
    for url in urls:
        text = http.get(f"{url}/metrics").text
        found = re.search(r"^iris_outbox_backlog\{[^}]*\} (\S+)$", text, re.M)
        if found is None or float(found.group(1)) != 0:
            return False
    return True


def post_until_taken(http: httpx.Client, urls: list[str], headers: dict, body: dict) -> int:
    """What school software does: retry on another replica until the write is taken."""
    deadline = time.monotonic() + 60
    attempt = 0
    while time.monotonic() < deadline:
        url = urls[attempt % len(urls)]
        attempt += 1
        try:
            answer = http.post(f"{url}/v1/enrolments", headers=headers, json=body)
        except httpx.HTTPError:
            continue
        if answer.status_code == 200:
            return attempt
        assert answer.status_code == 503, answer.text
    raise AssertionError(f"enrolment of {body['pupil_id']} never taken")


def test_a_killed_broker_leader_loses_no_submission_and_publishes_each_change_once(staged, http):
    school = "230007"
    pupils = [make_insz("2015-02-03", 100 + i) for i in range(240)]
    by_kafka, by_http = pupils[::2], pupils[1::2]
    producer = KafkaProducer(
        **staged.kafka("school"), acks="all", enable_idempotence=True, retries=50
    )
    # as school software holds it: a submission token lives 15 minutes at most
    token = staged.token(f"client:{school}", school_id=school, ttl_seconds=600)
    header = [("authorization", f"Bearer {token}".encode())]
    headers = {"Authorization": f"Bearer {token}"}
    enrolment = staged.replicas("enrolment")

    def publish(i: int) -> object:
        future = producer.send(
            "iris.enrolment.submitted",
            key=by_kafka[i].encode(),
            value=submission(by_kafka[i], school),
            headers=header,
        )
        return future.get(timeout=60).offset

    def post(i: int) -> object:
        body = {"pupil_id": by_http[i], "school_id": school, "start_date": "2026-09-01"}
        return post_until_taken(http, enrolment, headers, body)

    victim = Counter(leaders(staged, CHANGES).values()).most_common(1)[0][0]
    kafka_load, http_load = Load(publish, len(by_kafka)).start(), Load(post, len(by_http)).start()
    wait_until(lambda: len(http_load.results) >= 30, timeout=60, message="the load to run")
    killed_at = time.time()
    staged.stack.kafka.kill(victim)  # type: ignore[attr-defined]
    kafka_load.join(180)
    http_load.join(180)
    producer.close()

    reader = TopicReader("", CHANGES, **staged.kafka())
    try:
        reader.read_until(
            lambda ms: set(pupils) <= {m.pupil for m in ms}, timeout=120, message="every change"
        )
        wait_until(lambda: outbox_empty(http, enrolment), timeout=60, message="outbox sent")
        ours = [m for m in reader.read_to_end() if m.pupil in set(pupils)]
    finally:
        reader.close()
    published = Counter((m.pupil, m.value["school_id"], m.value["version"]) for m in ours)
    assert set(published) == {(p, school, 1) for p in pupils}
    assert max(published.values()) == 1, [k for k, n in published.items() if n > 1]
    stamps = sorted(m.timestamp_ms / 1000 for m in ours)
    after = [s for s in stamps if s >= killed_at]
    pause = (after[0] - killed_at) if after else float("nan")
    gaps = max(b - a for a, b in itertools.pairwise(stamps))
    print(f"\nbroker {victim} killed: first change after it {pause:.2f}s; longest gap {gaps:.2f}s")

    staged.stack.kafka.restart(victim)  # type: ignore[attr-defined]
    wait_until(lambda: fully_replicated(staged, CHANGES), timeout=120, message="in-sync again")


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused, timed out)
    seconds: float
    pupil: str


def post_once(http: httpx.Client, url: str, headers: dict, body: dict) -> Answer:
    started = time.monotonic()
    try:
        status = http.post(f"{url}/v1/enrolments", headers=headers, json=body).status_code
    except httpx.HTTPError:
        status = 0
    return Answer(status, time.monotonic() - started, body["pupil_id"])


def enrolled(http: httpx.Client, url: str, headers: dict, pupil: str) -> bool:
    answer = http.get(f"{url}/v1/pupils/{pupil}/enrolments", headers=headers)
    return answer.status_code == 200 and bool(answer.json())


def test_with_postgresql_stopped_the_apis_answer_503_and_writes_resume_by_themselves(staged, http):
    school = "230008"
    headers = staged.headers(f"client:{school}", school_id=school)
    urls = staged.replicas("enrolment")
    stop = threading.Event()
    answers: list[Answer] = []

    def write_steadily() -> None:
        serial = 0
        while not stop.wait(0.02):  # a steady load that leaves the two cores to the stage
            pupil = make_insz(f"2015-08-{1 + serial // 900:02d}", 1 + serial % 900)
            body = {"pupil_id": pupil, "school_id": school, "start_date": "2026-09-01"}
            answers.append(post_once(http, urls[serial % len(urls)], headers, body))
            serial += 1

    writer = threading.Thread(target=write_steadily, daemon=True)
    writer.start()
    wait_until(lambda: len(answers) >= 10, timeout=60, message="writes before the outage")
    postgres = staged.postgres
    assert postgres is not None
    postgres.stop()
    stopped_at, during = time.monotonic(), len(answers)
    outage = threading.Event()
    outage.wait(10)  # the fault lasts ten seconds; nothing is awaited here
    postgres.start()
    started_at = time.monotonic()
    wait_until(
        lambda: (
            any(a.status == 200 for a in answers[len(answers) - 3 :])
            and time.monotonic() > started_at
        ),
        timeout=60,
        message="writes to be taken again without restarting anything",
    )
    resumed = time.monotonic() - started_at
    stop.set()
    writer.join(30)

    in_outage = answers[during:]
    assert any(a.status == 503 for a in in_outage), "the outage was never noticed"
    assert {a.status for a in answers} <= {200, 503}, Counter(a.status for a in answers)
    slowest_503 = max(a.seconds for a in answers if a.status == 503)
    # taken means registered and published; refused means nothing at all was written
    registered = {a.pupil for a in answers if enrolled(http, urls[0], headers, a.pupil)}
    assert registered == {a.pupil for a in answers if a.status == 200}
    wait_until(lambda: outbox_empty(http, urls), timeout=60, message="the outbox sent")
    reader = TopicReader("", CHANGES, **staged.kafka())
    try:
        published = {m.pupil for m in reader.read_to_end() if m.value["school_id"] == school}
    finally:
        reader.close()
    assert published == registered
    print(
        f"\nPostgreSQL stopped {started_at - stopped_at:.1f}s: "
        f"{sum(a.status == 503 for a in answers)} answers 503 (slowest {slowest_503:.2f}s), "
        f"writes taken again {resumed:.2f}s after it started"
    )
