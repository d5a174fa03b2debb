"""After `iris erase`, no table of any service, no latest record of any key on the compacted
topics (the record of views `iris.viewer.audit` among them), and no Redis key or value of the
viewer's cache holds the erased INSZ; what others share with it stays, and the schools' audit
trails record the erasure without it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import redis
from sqlalchemy import select

from iris.contracts import (
    ACCESS_GRANTS,
    ACCESS_SUPPORT_REQUESTS,
    ENROLMENT_CHANGES,
    REPORT_CHANGES,
    VIEWER_AUDIT,
    SupportRequestChanged,
)
from iris.db import transaction
from iris.erasure import command
from iris.insz import make_insz
from iris.kafka import ensure_topics
from iris.outbox import OutboxRelay
from services.access import models as access
from services.enrolment import models as enrolment
from services.reports import models as reports
from services.viewer import models as viewer
from services.viewer import service as viewing
from services.viewer.cache import AuthCache
from services.viewer.rebuild import parse_change, rebuild
from services.viewer.repository import SqlViewerRepository
from tests.privacy.conftest import Database, at
from tests.support import TopicReader
from tests.viewer.events import Publisher, grant, issued, withdrawn
from tests.viewer.events import enrolment as enrolled

pytestmark = pytest.mark.integration

SCHOOL = "410001"
TEACHER_NAME = "Wannes Teacherman"
DAY = date(2026, 3, 2)
COMPACTED = (
    ENROLMENT_CHANGES,
    REPORT_CHANGES,
    ACCESS_GRANTS,
    ACCESS_SUPPORT_REQUESTS,
    VIEWER_AUDIT,
)
MODELS = {"enrolment": enrolment, "reports": reports, "access": access, "viewer": viewer}


class World:
    """A pupil enrolled with two report versions, a teacher granted them and another pupil,
    a support request, views, audit entries: in the four databases and on the topics, as
    the services would have written and published them."""

    def __init__(self, open_database: Callable[[str], Database], serial: int) -> None:
        self.pupil, self.other = (
            make_insz("2013-06-07", serial),
            make_insz("2013-06-07", serial + 1),
        )
        self.teacher = make_insz("1982-06-07", serial)
        self.responsible = make_insz("1972-06-07", serial)
        self.db = {name: open_database(name) for name in MODELS}

    def build(self, bootstrap: str) -> None:
        pupil, other, teacher = self.pupil, self.other, self.teacher
        self.db["enrolment"].add(
            *(
                enrolment.EnrolmentRow(
                    pupil_id=p,
                    school_id=SCHOOL,
                    start_date=date(2025, 9, 1),
                    display_name="Noor",
                    version=1,
                    updated_at=at(DAY),
                )
                for p in (pupil, other)
            )
        )
        v1, v2 = issued(pupil, 1, "2025-09-01"), issued(pupil, 2, "2026-02-01")
        lifted = withdrawn(pupil, v2.report_id, 3, on="2026-03-01", of=v2)
        head = reports.ReportHead(pupil_id=pupil, last_version=2, last_sequence=3)
        rows = [
            reports.ReportRow(
                report_id=v.report_id,
                pupil_id=pupil,
                version=v.version,
                kind="IAC",
                clb_id="113001",
                valid_from=v.valid_from,
                issued_at=at(DAY),
                issued_by=self.responsible,
                issue_sequence=v.version,
            )
            for v in (v1, v2)
        ]
        self.db["reports"].add(head)
        self.db["reports"].add(*rows)
        self.db["reports"].add(
            *(
                reports.ReportContent(
                    report_id=r.report_id, needs="n", advice="a", measures_taken="m", reasoning="r"
                )
                for r in rows
            )
        )
        limited = grant(SCHOOL, teacher, 1, pupils=[pupil, other])
        request_id = str(uuid.uuid4())
        self.db["access"].add(
            access.GrantRow(
                grant_id=str(limited.grant_id),
                school_id=SCHOOL,
                person_id=teacher,
                person_name=TEACHER_NAME,
                role="teacher",
                pupil_ids=json.dumps([pupil, other]),
                valid_from=date(2020, 1, 1),
                valid_until=date(2099, 12, 31),
                status="active",
                version=1,
                changed_by=self.responsible,
                updated_at=at(DAY),
            ),
            access.EnrolmentCopyRow(
                pupil_id=pupil,
                school_id=SCHOOL,
                start_date=date(2025, 9, 1),
                display_name="Noor",
                version=1,
            ),
            access.SupportRequestRow(
                support_request_id=request_id,
                school_id=SCHOOL,
                pupil_id=pupil,
                support_network="net",
                question="Hoe helpen we Noor?",
                sent_by=self.responsible,
                status="sent",
                version=1,
                created_at=at(DAY),
                updated_at=at(DAY),
            ),
            access.AuditRow(
                school_id=SCHOOL,
                at=at(DAY),
                actor=self.responsible,
                action="grant.created",
                subject=str(limited.grant_id),
                person_id=teacher,
                after=json.dumps({"pupil_ids": [pupil, other]}),
            ),
        )
        self.record_views(str(v1.report_id))
        asked = SupportRequestChanged(
            support_request_id=uuid.UUID(request_id),
            school_id=SCHOOL,
            pupil_id=pupil,
            support_network="net",
            status="sent",
            version=1,
            changed_by=self.responsible,
        )
        publisher = Publisher(bootstrap)
        try:
            for event in (
                enrolled(pupil, SCHOOL, 1),
                enrolled(other, SCHOOL, 1),
                v1,
                v2,
                lifted,
                limited,
                grant(SCHOOL, self.responsible, 1),
            ):
                publisher.publish(event)
            publisher.producer.send(
                ACCESS_SUPPORT_REQUESTS.name, key=request_id.encode(), value=asked.to_json()
            )
            publisher.producer.flush()
        finally:
            publisher.close()

    def record_views(self, report_id: str) -> None:
        """The teacher's view of the pupil's report and a refused one, and a refusal of
        another person about the other pupil, as the viewer records them (its outbox)."""
        seen = viewing.View(
            view_id=viewing.new_view_id(),
            pupil_id=self.pupil,
            person_id=self.teacher,
            person_name="Els",
            role="teacher",
            school_id=SCHOOL,
            report_id=report_id,
            version=1,
            channel="web",
            viewed_at=at(DAY),
        )
        refused = [
            viewing.Denial(self.teacher, self.pupil, "grant does not cover this pupil"),
            viewing.Denial(self.responsible, self.other, "no grant"),
        ]
        with transaction(self.db["viewer"].sessions) as session:
            viewing.record(SqlViewerRepository(session), [seen, *refused])

    def publish_outboxes(self) -> None:
        async def publish() -> None:
            for name, db in self.db.items():
                relay = OutboxRelay(name, db.sessions, MODELS[name].Outbox, db.settings)
                try:
                    await relay.publish_pending()
                finally:
                    await relay._drop_producer()

        asyncio.run(publish())

    def tables_holding(self, insz: str) -> list[str]:
        found = []
        for name, db in self.db.items():
            with db.sessions() as session:
                for table in MODELS[name].Base.metadata.sorted_tables:
                    for row in session.execute(select(table)):
                        if insz in " ".join(str(v) for v in row):
                            found.append(f"{name}.{table.name}")
        return found


def keys_still_holding(bootstrap: str, insz: str) -> list[str]:
    """The keys of the compacted topics whose latest record holds the INSZ: what compaction
    would leave of it (a key whose latest record is a tombstone or a version without the
    INSZ keeps nothing of it)."""
    left = []
    for topic in COMPACTED:
        reader = TopicReader(bootstrap, topic.name)
        try:
            latest: dict[tuple[int, str | None], Any] = {}
            for message in reader.read_to_end():
                latest[(message.partition, message.key)] = message
        finally:
            reader.close()
        for (_partition, key), message in latest.items():
            if insz in (key or "") and message.raw is not None:
                left.append(f"{topic.name} {key}")
            elif message.raw is not None and insz in message.raw.decode():
                left.append(f"{topic.name} {key}")
    return left


def topics_holding(bootstrap: str, insz: str) -> set[str]:
    """The compacted topics with any message, not only the latest of its key, whose key or
    value holds the INSZ."""
    found = set()
    for topic in COMPACTED:
        reader = TopicReader(bootstrap, topic.name)
        try:
            if any(insz in (m.key or "") + (m.raw or b"").decode() for m in reader.read_to_end()):
                found.add(topic.name)
        finally:
            reader.close()
    return found


def redis_holding(url: str, insz: str) -> list[str]:
    client = redis.Redis.from_url(url)
    found = []
    try:
        for key in client.scan_iter(count=1000):
            kind = client.type(key)
            text = key.decode()
            if kind == b"hash":
                text += " " + " ".join(f"{k!r}{v!r}" for k, v in client.hgetall(key).items())
            elif kind == b"string":
                text += " " + client.get(key).decode()
            if insz in text:
                found.append(key.decode())
    finally:
        client.close()
    return found


def rebuilt_cache(url: str, settings: Any) -> None:
    redis.Redis.from_url(url).flushdb()

    async def run() -> None:
        cache = AuthCache.from_url(url)
        try:
            assert await rebuild(cache, settings)
        finally:
            await cache.close()

    asyncio.run(run())


def folded_cache(url: str, bootstrap: str) -> None:
    """The cache as the viewer worker's agents fold the change topics, from their beginning
    to their very end (the embedded broker may report the end of a partition that a relay
    wrote in multi-record batches short, which would stop a rebuild there)."""
    redis.Redis.from_url(url).flushdb()
    events = []
    for topic in (ENROLMENT_CHANGES, REPORT_CHANGES, ACCESS_GRANTS):
        reader = TopicReader(bootstrap, topic.name)
        try:
            for m in reader.read_to_end():
                key = m.key.encode() if m.key is not None else None
                event = parse_change(topic.name, m.raw, key)[0]
                if event is not None:
                    events.append(event)
        finally:
            reader.close()

    async def run() -> None:
        cache = AuthCache.from_url(url)
        try:
            for start in range(0, len(events), 500):
                await cache.fold(events[start : start + 500])
        finally:
            await cache.close()

    asyncio.run(run())


@pytest.mark.parametrize("role", ["pupil", "person"])
def test_after_an_erasure_no_table_topic_or_redis_key_holds_the_insz(
    database: Callable[[str], Database], infra: Any, role: str
) -> None:
    world = World(database, 301 if role == "pupil" else 351)
    settings = world.db["viewer"].settings
    asyncio.run(ensure_topics(settings, COMPACTED))
    world.build(infra.kafka_bootstrap)
    world.publish_outboxes()  # the viewer's record of views
    erased = world.pupil if role == "pupil" else world.teacher
    rebuilt_cache(infra.redis_url, settings)
    assert world.tables_holding(erased) and redis_holding(infra.redis_url, erased)
    assert {ACCESS_GRANTS.name, VIEWER_AUDIT.name} <= topics_holding(infra.kafka_bootstrap, erased)

    lines: list[str] = []
    for name, db in world.db.items():  # each service's own database, as the command does
        assert command([name], role, erased, "DPO-2026-17", db.settings, lines.append) == 0  # type: ignore[arg-type]
    world.publish_outboxes()
    folded_cache(infra.redis_url, infra.kafka_bootstrap)

    assert world.tables_holding(erased) == []
    if role == "person":
        assert world.tables_holding(TEACHER_NAME) == [], "the person's name goes too"
    assert keys_still_holding(infra.kafka_bootstrap, erased) == []
    assert redis_holding(infra.redis_url, erased) == []
    # the other pupil and the school's data stay
    assert world.tables_holding(world.other) and redis_holding(infra.redis_url, world.other)
    kept = keys_still_holding(infra.kafka_bootstrap, world.other)
    assert any(entry.startswith(f"{VIEWER_AUDIT.name} ") for entry in kept)
    with world.db["access"].sessions() as session:
        trail = list(
            session.scalars(select(access.AuditRow).where(access.AuditRow.action == "erasure"))
        )
    assert [(e.school_id, e.subject, e.person_id) for e in trail] == [(SCHOOL, "DPO-2026-17", None)]
    redis.Redis.from_url(infra.redis_url).flushdb()
