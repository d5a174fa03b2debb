"""Each kind of personal data is gone once its retention period has passed, and not a day
before (docs/privacy.md); the purge queues what other services must forget."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date

from iris.contracts import (
    ACCESS_GRANTS,
    ACCESS_SUPPORT_REQUESTS,
    ENROLMENT_CHANGES,
    REPORT_CHANGES,
    VIEWER_AUDIT,
)
from iris.insz import make_insz
from iris.purge_command import command
from services.access import models as access
from services.enrolment import models as enrolment
from services.reports import models as reports
from services.viewer import models as viewer
from tests.privacy.conftest import Database, at, days

DAY = date(2026, 3, 2)
PUPIL, OTHER = make_insz("2014-05-06", 11), make_insz("2014-05-06", 12)
PERSON = make_insz("1985-03-15", 21)


def enrolment_row(pupil: str, school: str, end: date | None) -> enrolment.EnrolmentRow:
    return enrolment.EnrolmentRow(
        pupil_id=pupil,
        school_id=school,
        start_date=date(2025, 9, 1),
        end_date=end,
        display_name="Lotte Peeters",
        version=1,
        updated_at=at(DAY),
    )


def test_an_ended_enrolment_goes_after_its_period_and_is_forgotten_everywhere(
    database: Callable[[str], Database],
) -> None:
    db = database("enrolment")
    db.add(enrolment_row(PUPIL, "31112", DAY), enrolment_row(OTHER, "31112", None))
    db.add(enrolment.SeenEvent(event_id=str(uuid.uuid4()), seen_at=at(DAY)))
    period = db.settings.retention_ended_enrolment_days

    db.purge(at(DAY + days(period)))
    assert db.count(enrolment.EnrolmentRow) == 2
    assert db.tombstones(enrolment.Outbox) == []

    db.purge(at(DAY + days(period + 1)))
    assert db.count(enrolment.EnrolmentRow, enrolment.EnrolmentRow.pupil_id == PUPIL) == 0
    assert db.count(enrolment.EnrolmentRow, enrolment.EnrolmentRow.pupil_id == OTHER) == 1
    assert db.tombstones(enrolment.Outbox) == [(ENROLMENT_CHANGES.name, f"{PUPIL}:31112")]
    assert db.count(enrolment.SeenEvent) == 0  # the intake period is shorter


def test_published_events_go_after_a_week_unpublished_ones_never(
    database: Callable[[str], Database],
) -> None:
    db = database("viewer")
    sent = viewer.Outbox(
        topic="t",
        key=PUPIL,
        event_type="X",
        event_id=str(uuid.uuid4()),
        payload="{}",
        created_at=at(DAY),
        sent_at=at(DAY),
    )
    waiting = viewer.Outbox(
        topic="t",
        key=PUPIL,
        event_type="X",
        event_id=str(uuid.uuid4()),
        payload="{}",
        created_at=at(DAY),
        sent_at=None,
    )
    db.add(sent, waiting)
    db.purge(at(DAY + days(7)))
    assert db.count(viewer.Outbox) == 2
    db.purge(at(DAY + days(8)))
    assert db.count(viewer.Outbox, viewer.Outbox.sent_at.is_(None)) == 1
    assert db.count(viewer.Outbox) == 1


def view(viewed: date) -> viewer.ViewRow:
    return viewer.ViewRow(
        view_id=str(uuid.uuid4()),
        pupil_id=PUPIL,
        person_id=PERSON,
        person_name="Sofie",
        role="teacher",
        school_id="31112",
        report_id=str(uuid.uuid4()),
        version=1,
        channel="web",
        viewed_at=at(viewed),
    )


def test_a_view_is_kept_for_the_period_parents_can_ask_who_looked(
    database: Callable[[str], Database],
) -> None:
    db = database("viewer")
    db.add(*(view(DAY) for _ in range(5)), view(DAY + days(1)))
    period = db.settings.retention_views_days
    db.purge(at(DAY + days(period)))
    assert db.count(viewer.ViewRow) == 6
    done = db.purge(at(DAY + days(period + 1)))
    assert done["views"] == 5  # in batches of two
    assert db.count(viewer.ViewRow) == 1


def test_a_view_or_denial_past_its_period_is_tombstoned_on_the_audit_topic(
    database: Callable[[str], Database],
) -> None:
    db = database("viewer")
    old, recent = view(DAY), view(DAY + days(1))
    refused = viewer.DenialRow(
        denial_id=str(uuid.uuid4()), pupil_id=PUPIL, person_id=PERSON, denied_at=at(DAY)
    )
    db.add(old, recent, refused)
    period = db.settings.retention_views_days

    done = db.purge(at(DAY + days(period + 1)))

    assert (done["views"], done["denials"]) == (1, 1)
    assert db.count(viewer.DenialRow) == 0
    assert db.tombstones(viewer.Outbox) == sorted(
        (VIEWER_AUDIT.name, key) for key in (old.view_id, refused.denial_id)
    )


def grant(person: str, status: str, changed: date) -> access.GrantRow:
    return access.GrantRow(
        grant_id=str(uuid.uuid4()),
        school_id="31112",
        person_id=person,
        role="teacher",
        pupil_ids=None,
        valid_from=date(2025, 9, 1),
        valid_until=changed,
        status=status,
        version=2,
        changed_by=PERSON,
        updated_at=at(changed),
    )


def support_request(status: str, changed: date) -> access.SupportRequestRow:
    return access.SupportRequestRow(
        support_request_id=str(uuid.uuid4()),
        school_id="31112",
        pupil_id=PUPIL,
        support_network="net",
        question="Hoe ondersteunen we Lotte?",
        sent_by=PERSON,
        status=status,
        version=2,
        created_at=at(changed),
        updated_at=at(changed),
    )


def test_closed_grants_requests_and_audit_go_after_the_audit_period(
    database: Callable[[str], Database],
) -> None:
    db = database("access")
    revoked, active = (
        grant(PERSON, "revoked", DAY),
        grant(make_insz("1985-03-15", 22), "active", DAY),
    )
    declined, sent = support_request("declined", DAY), support_request("sent", DAY)
    db.add(revoked, active, declined, sent)
    db.add(
        access.AccessRequestRow(
            request_id=str(uuid.uuid4()),
            school_id="31112",
            support_network="net",
            requested_by="net",
            person_id=PERSON,
            pupil_ids="[]",
            motivation="m",
            status="rejected",
            reason="r",
            created_at=at(DAY),
            decided_at=at(DAY),
        ),
        access.AuditRow(
            school_id="31112",
            at=at(DAY),
            actor=PERSON,
            action="grant.revoked",
            subject=revoked.grant_id,
            person_id=PERSON,
        ),
        access.EnrolmentCopyRow(
            pupil_id=PUPIL,
            school_id="31112",
            start_date=date(2025, 9, 1),
            end_date=DAY,
            display_name="Lotte Peeters",
            version=2,
        ),
    )
    period = db.settings.retention_closed_grant_days
    assert db.settings.retention_audit_days == db.settings.retention_closed_request_days == period

    db.purge(at(DAY + days(period)))
    assert db.count(access.GrantRow) == 2 and db.count(access.SupportRequestRow) == 2
    assert db.count(access.AccessRequestRow) == 1 and db.count(access.AuditRow) == 1

    db.purge(at(DAY + days(period + 1)))
    assert [
        g
        for g in [revoked.grant_id, active.grant_id]
        if db.count(access.GrantRow, access.GrantRow.grant_id == g)
    ] == [active.grant_id]
    assert db.count(access.SupportRequestRow) == 1  # the open one stays
    assert db.count(access.AccessRequestRow) == db.count(access.AuditRow) == 0
    assert db.count(access.EnrolmentCopyRow) == 0
    assert db.tombstones(access.Outbox) == sorted(
        [
            (ACCESS_GRANTS.name, f"31112:{PERSON}"),
            (ACCESS_SUPPORT_REQUESTS.name, declined.support_request_id),
        ]
    )


def report(version: int, valid_from: date, withdrawn: date | None = None) -> reports.ReportRow:
    return reports.ReportRow(
        report_id=uuid.uuid4(),
        pupil_id=PUPIL,
        version=version,
        kind="IAC",
        clb_id="113001",
        valid_from=valid_from,
        issued_at=at(valid_from),
        issued_by=PERSON,
        issue_sequence=version,
        withdrawn_at=at(withdrawn) if withdrawn else None,
        withdrawn_on=withdrawn,
        withdraw_sequence=10 + version if withdrawn else None,
    )


def content(row: reports.ReportRow) -> reports.ReportContent:
    return reports.ReportContent(
        report_id=row.report_id, needs="n", advice="a", measures_taken="m", reasoning="r"
    )


def test_a_superseded_report_goes_after_the_clb_period_the_current_one_stays(
    database: Callable[[str], Database],
) -> None:
    db = database("reports")
    v1, v2 = report(1, date(2024, 9, 1)), report(2, DAY)
    db.add(reports.ReportHead(pupil_id=PUPIL, last_version=2, last_sequence=2))
    db.add(v1, v2)
    db.add(content(v1), content(v2))
    period = db.settings.retention_replaced_report_days

    db.purge(at(DAY + days(period)))
    assert db.count(reports.ReportRow) == 2
    db.purge(at(DAY + days(period + 1)))
    assert db.count(reports.ReportRow, reports.ReportRow.report_id == v1.report_id) == 0
    assert db.count(reports.ReportContent, reports.ReportContent.report_id == v1.report_id) == 0
    assert db.count(reports.ReportRow, reports.ReportRow.report_id == v2.report_id) == 1
    assert db.tombstones(reports.Outbox) == [(REPORT_CHANGES.name, f"{PUPIL}:1")]
    db.purge(at(DAY + days(10 * period)))
    assert db.count(reports.ReportContent) == 1  # the current report serves: never purged


def test_iris_purge_dry_run_counts_and_deletes_nothing(
    database: Callable[[str], Database],
) -> None:
    db = database("viewer")
    db.add(view(DAY), view(DAY))
    lines: list[str] = []
    later = at(DAY + days(db.settings.retention_views_days + 1))
    command(["viewer"], True, db.settings, clock=lambda: later, out=lines.append)
    assert "viewer: would delete 2 views" in lines
    assert db.count(viewer.ViewRow) == 2
    command(["viewer"], False, db.settings, clock=lambda: later, out=lines.append)
    assert "viewer: deleted 2 views" in lines
    assert db.count(viewer.ViewRow) == 0


def test_replicas_purging_at_once_delete_each_row_once(
    database: Callable[[str], Database],
) -> None:
    db = database("viewer")
    db.add(*(view(DAY) for _ in range(40)))
    later = at(DAY + days(db.settings.retention_views_days + 1))
    done: list[int] = []
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            done.append(db.purge(later).get("views", 0))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert db.count(viewer.ViewRow) == 0
    assert sum(done) == 40  # each row deleted once; a replica finding the lock taken stops
