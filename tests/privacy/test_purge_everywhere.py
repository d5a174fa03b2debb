"""With an injected clock: an ended enrolment, a closed grant and a superseded report
version stay in the databases, on the topics and in the viewer's Redis up to the last day
of their period, and are gone from all three the day after."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import select

from iris.contracts import ENROLMENT_CHANGES, Forgotten
from iris.insz import make_insz
from iris.kafka import ensure_topics
from services.access import enrolments as access_copy
from services.access import models as access
from services.enrolment import models as enrolment
from services.reports import models as reports
from services.viewer.encoding import decode_report
from services.viewer.layout import reports_key
from tests.privacy.conftest import Database, at
from tests.privacy.test_erasure import (
    COMPACTED,
    SCHOOL,
    World,
    folded_cache,
    keys_still_holding,
    redis_holding,
)
from tests.viewer.events import Publisher, grant, issued
from tests.viewer.events import enrolment as enrolled

pytestmark = pytest.mark.integration

ENDED = date(2024, 6, 30)


def past(world: World, bootstrap: str) -> dict[str, Any]:
    """An enrolment that ended, a revoked grant, a version superseded on ENDED."""
    pupil, teacher = world.pupil, world.teacher
    world.db["enrolment"].add(
        enrolment.EnrolmentRow(
            pupil_id=pupil,
            school_id=SCHOOL,
            start_date=date(2020, 9, 1),
            end_date=ENDED,
            display_name="Noor",
            version=2,
            updated_at=at(ENDED),
        )
    )
    v1, v2 = issued(pupil, 1, "2020-09-01"), issued(pupil, 2, ENDED.isoformat())
    world.db["reports"].add(reports.ReportHead(pupil_id=pupil, last_version=2, last_sequence=2))
    rows = [
        reports.ReportRow(
            report_id=v.report_id,
            pupil_id=pupil,
            version=v.version,
            kind="IAC",
            clb_id="113001",
            valid_from=v.valid_from,
            issued_at=at(ENDED),
            issued_by="clb",
            issue_sequence=v.version,
        )
        for v in (v1, v2)
    ]
    world.db["reports"].add(*rows)
    revoked = grant(SCHOOL, teacher, 2, status="revoked")
    world.db["access"].add(
        access.GrantRow(
            grant_id=str(revoked.grant_id),
            school_id=SCHOOL,
            person_id=teacher,
            role="teacher",
            pupil_ids=None,
            valid_from=date(2020, 1, 1),
            valid_until=ENDED,
            status="revoked",
            version=2,
            changed_by="someone",
            updated_at=at(ENDED),
        )
    )
    publisher = Publisher(bootstrap)
    try:
        for event in (
            enrolled(pupil, SCHOOL, 2, start="2020-09-01", end=ENDED.isoformat()),
            v1,
            v2,
            revoked,
        ):
            publisher.publish(event)
    finally:
        publisher.close()
    return {"v1": v1.report_id, "v2": v2.report_id}


def purge_all(world: World, day: date) -> None:
    for db in world.db.values():
        db.purge(at(day))
    world.publish_outboxes()


def test_each_kind_stays_through_its_period_and_is_gone_everywhere_the_day_after(
    database: Callable[[str], Database], infra: Any
) -> None:
    world = World(database, 381)
    settings = world.db["enrolment"].settings
    asyncio.run(ensure_topics(settings, COMPACTED))
    ids = past(world, infra.kafka_bootstrap)
    enrolment_days = settings.retention_ended_enrolment_days
    grant_days = settings.retention_closed_grant_days
    report_days = settings.retention_replaced_report_days
    assert enrolment_days < grant_days < report_days

    # the last day of the enrolment's period: everything still there
    purge_all(world, ENDED + timedelta(days=enrolment_days))
    folded_cache(infra.redis_url, infra.kafka_bootstrap)
    assert world.db["enrolment"].count(enrolment.EnrolmentRow) == 1
    assert redis_holding(infra.redis_url, world.pupil) and redis_holding(
        infra.redis_url, world.teacher
    )

    # the day after: the enrolment is gone from the table, the topic and Redis; the rest stays
    purge_all(world, ENDED + timedelta(days=enrolment_days + 1))
    folded_cache(infra.redis_url, infra.kafka_bootstrap)
    assert world.db["enrolment"].count(enrolment.EnrolmentRow) == 0
    assert not any(
        k.startswith(ENROLMENT_CHANGES.name)
        for k in keys_still_holding(infra.kafka_bootstrap, world.pupil)
    )
    assert not any(":enr:" in k for k in redis_holding(infra.redis_url, world.pupil))
    assert world.db["access"].count(access.GrantRow) == 1
    assert redis_holding(infra.redis_url, world.teacher)

    # the grant: through its period, then gone
    purge_all(world, ENDED + timedelta(days=grant_days))
    assert world.db["access"].count(access.GrantRow) == 1
    purge_all(world, ENDED + timedelta(days=grant_days + 1))
    folded_cache(infra.redis_url, infra.kafka_bootstrap)
    assert world.db["access"].count(access.GrantRow) == 0
    assert keys_still_holding(infra.kafka_bootstrap, world.teacher) == []
    assert redis_holding(infra.redis_url, world.teacher) == []

    # the superseded version: through its period, then gone; the current one stays
    purge_all(world, ENDED + timedelta(days=report_days))
    assert world.db["reports"].count(reports.ReportRow) == 2
    purge_all(world, ENDED + timedelta(days=report_days + 1))
    folded_cache(infra.redis_url, infra.kafka_bootstrap)
    with world.db["reports"].sessions() as session:
        left = list(session.scalars(select(reports.ReportRow.report_id)))
    assert left == [ids["v2"]]
    assert keys_still_holding(infra.kafka_bootstrap, world.pupil) == [
        f"iris.report.changes {world.pupil}:2"
    ]
    client = redis.Redis.from_url(infra.redis_url)
    try:
        state = decode_report(client.hget(reports_key(world.pupil), world.pupil))
    finally:
        client.close()
    kept = {i.report_id for i in state.issued} | {w.report_id for w in state.withdrawn}
    assert kept == {str(ids["v2"])}


def test_the_access_copy_forgets_an_enrolment_whose_tombstone_arrives(
    database: Callable[[str], Database],
) -> None:
    db = database("access")
    pupil = make_insz("2013-06-07", 391)
    db.add(
        access.EnrolmentCopyRow(
            pupil_id=pupil,
            school_id=SCHOOL,
            start_date=date(2025, 9, 1),
            display_name="Noor",
            version=1,
        )
    )
    with db.sessions() as session, session.begin():
        assert (
            access_copy.fold(session, [Forgotten(ENROLMENT_CHANGES.name, f"{pupil}:{SCHOOL}")]) == 1
        )
    assert db.count(access.EnrolmentCopyRow) == 0
