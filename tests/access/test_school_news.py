"""Care coordinators are told, in their one digest a day, that pupils of their school have a
report new to see: a new current report of a pupil registered there, or a pupil with a
report newly registered. The access worker's folds (as `iris worker access` applies them),
a real SMTP server, and nothing in the message but counts and links."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from iris.contracts import EnrolmentChanged, Forgotten, ReportIssued, ReportWithdrawn
from iris.db import make_engine, make_sessionmaker, transaction
from iris.insz import make_insz
from services.access import enrolments, news
from services.access.notifications import send_digests
from tests.access.conftest import TODAY, Access, school_id
from tests.access.mail import address, sign_up

COORDINATOR = make_insz("1979-09-09", 71)
RESPONSIBLE = make_insz("1969-06-06", 72)
NOOR = make_insz("2015-04-04", 73)
LIAM = make_insz("2015-08-08", 74)
NAME = "Noor Peeters"


def sessions(access: Access) -> Any:
    return make_sessionmaker(make_engine(access.settings.database_url_for("access")))


def fold(access: Access, *changes: Any) -> None:
    """As the access worker does, one batch per change, on each of its two topics."""
    made = sessions(access)
    for change in changes:
        with transaction(made) as session:
            if isinstance(change, EnrolmentChanged) or (
                isinstance(change, Forgotten) and change.topic == "iris.enrolment.changes"
            ):
                enrolments.fold(session, [change])
                pupils = {change.pair[0] if isinstance(change, Forgotten) else change.pupil_id}
            else:
                pupils = news.fold_reports(session, [change])
            news.notice(session, TODAY, pupils)


def registered(pupil: str, school: str, version: int = 1, **fields: Any) -> EnrolmentChanged:
    return EnrolmentChanged(
        pupil_id=pupil,
        school_id=school,
        start_date=date(2026, 9, 1),
        display_name=NAME,
        version=version,
        **fields,
    )


def issued(pupil: str, version: int = 1, valid_from: date = date(2026, 9, 1)) -> ReportIssued:
    return ReportIssued(
        report_id=uuid.uuid4(),
        pupil_id=pupil,
        version=version,
        kind="IAC",
        clb_id="113001",
        issued_at=datetime.now(UTC),
        valid_from=valid_from,
        sequence=version,
    )


def withdrawn(report: ReportIssued, sequence: int) -> ReportWithdrawn:
    return ReportWithdrawn(
        report_id=report.report_id,
        pupil_id=report.pupil_id,
        version=report.version,
        withdrawn_at=datetime.now(UTC),
        withdrawn_on=TODAY,
        sequence=sequence,
        kind=report.kind,
        clb_id=report.clb_id,
        issued_at=report.issued_at,
        valid_from=report.valid_from,
    )


def coordinator_at(access: Access, school: str, **limits: Any) -> None:
    granted = access.grant(
        school,
        person_id=COORDINATOR,
        role="care_coordinator",
        valid_from="2026-09-01",
        **limits,
    )
    assert granted.status_code == 200, granted.text
    sign_up(access, COORDINATOR)


def test_a_care_coordinator_gets_one_digest_when_a_report_is_issued_for_a_pupil_of_the_school(
    mailing_access: Access, smtp
):
    inbox, _port = smtp
    access, school = mailing_access, school_id()
    coordinator_at(access, school)
    fold(access, registered(NOOR, school))
    made = sessions(access)
    assert send_digests(access.settings, made, TODAY) == 0  # nothing to see yet

    report = issued(NOOR)
    fold(access, report, report)  # a duplicate changes nothing
    assert send_digests(access.settings, made, TODAY) == 1
    (mail,) = inbox.to(address(COORDINATOR))
    text = str(mail["Subject"]) + mail.get_content()
    assert f"1 pupil(s) at school {school} have a report that is new for you to see" in text
    assert f"In school {school} hebben 1 leerling(en) een verslag dat nieuw is voor u" in text
    assert text.index("Beste,") < text.index("Hello,")  # Dutch first, then English
    assert f"https://viewer.test/schools/{school}/pupils" in text
    assert "https://access.test/me/notifications" in text
    for secret in (NOOR, NAME, "Noor", COORDINATOR, "IAC", str(report.report_id)):
        assert secret not in text

    fold(access, issued(NOOR, version=2))  # a second new report the same day: tomorrow
    assert send_digests(access.settings, made, TODAY) == 0
    assert send_digests(access.settings, made, TODAY + timedelta(days=1)) == 1
    assert "1 pupil(s)" in inbox.to(address(COORDINATOR))[-1].get_content()
    assert send_digests(access.settings, made, TODAY + timedelta(days=2)) == 0  # told already


def test_a_pupil_with_a_report_registered_later_is_news_in_any_order_of_the_topics(
    mailing_access: Access, smtp
):
    inbox, _port = smtp
    access, school, other = mailing_access, school_id(), school_id()
    coordinator_at(access, school)
    report = issued(LIAM)
    fold(access, report, registered(LIAM, other))  # the report first, at another school
    made = sessions(access)
    assert send_digests(access.settings, made, TODAY) == 0
    fold(access, registered(LIAM, school), registered(LIAM, school))
    assert send_digests(access.settings, made, TODAY + timedelta(days=1)) == 1
    assert f"at school {school}" in inbox.to(address(COORDINATOR))[0].get_content()


def test_withdrawn_future_dated_limited_and_ended_are_not_news_until_they_are(
    mailing_access: Access, smtp
):
    inbox, _port = smtp
    access, school = mailing_access, school_id()
    coordinator_at(access, school, pupil_ids=[LIAM])
    made = sessions(access)
    fold(access, registered(NOOR, school), issued(NOOR))  # not a pupil of the grant
    lifted = issued(LIAM)
    fold(access, withdrawn(lifted, 2), lifted, registered(LIAM, school))  # reordered
    assert send_digests(access.settings, made, TODAY) == 0
    fold(access, issued(LIAM, version=3, valid_from=TODAY + timedelta(days=3)))
    assert send_digests(access.settings, made, TODAY + timedelta(days=1)) == 0
    assert send_digests(access.settings, made, TODAY + timedelta(days=3)) == 1
    ended = registered(LIAM, school, version=2, end_date=TODAY + timedelta(days=3))
    fold(access, ended, issued(LIAM, version=4))
    assert send_digests(access.settings, made, TODAY + timedelta(days=5)) == 0
    assert len(inbox.to(address(COORDINATOR))) == 1


def test_opting_out_stops_the_care_coordinator_s_digest(mailing_access: Access, smtp):
    inbox, _port = smtp
    access, school = mailing_access, school_id()
    coordinator_at(access, school)
    sign_up(access, COORDINATOR, enabled=False)
    fold(access, registered(NOOR, school), issued(NOOR))
    assert send_digests(access.settings, sessions(access), TODAY) == 0
    assert inbox.to(address(COORDINATOR)) == []


def test_every_kind_of_news_comes_in_one_digest_a_day(mailing_access: Access, smtp):
    """The school's responsible who coordinates care too gets one message with both."""
    inbox, _port = smtp
    access, school = mailing_access, school_id()
    granted = access.grant(
        school, person_id=RESPONSIBLE, role="care_coordinator", valid_from="2026-09-01"
    )
    assert granted.status_code == 200, granted.text
    filed = access.client.post(
        f"/v1/schools/{school}/access-requests",
        json={
            "person_id": make_insz("1990-01-01", 75),
            "pupil_ids": [NOOR],
            "support_network": "netwerk",
            "motivation": "lezen",
        },
        headers=access.network("netwerk"),
    )
    assert filed.status_code == 201, filed.text
    sign_up(access, RESPONSIBLE, school_admin_of=[school])
    fold(access, registered(NOOR, school), issued(NOOR))
    assert send_digests(access.settings, sessions(access), TODAY) == 1
    (mail,) = inbox.to(address(RESPONSIBLE))
    assert "access request(s) wait" in mail.get_content()
    assert "have a report that is new for you to see" in mail.get_content()


def test_a_report_issued_in_the_reports_service_reaches_the_care_coordinator_by_e_mail(
    mailing_access: Access, smtp, make_settings, issuer, infra, tmp_path
):
    """Through the real services: the reports API publishes the issue on
    `iris.report.changes`, `iris worker access` folds it (and skips a value that is no
    change), and the care coordinator's digest says there is something to see."""
    from kafka import KafkaProducer

    from iris.contracts import ENROLMENT_CHANGES, REPORT_CHANGES
    from services.reports.api import create_app as reports_app
    from tests.conftest import settings_env
    from tests.reports.conftest import CLB, STAFF, report_body
    from tests.support import iris_process, wait_until

    inbox, _port = smtp
    access, school, pupil = mailing_access, school_id(), make_insz("2016-02-02", 76)
    coordinator_at(access, school)
    producer = KafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    producer.send(REPORT_CHANGES.name, key=b"x:1", value=b'{"type": "ReportIssued"}')
    producer.send(
        ENROLMENT_CHANGES.name,
        key=f"{pupil}:{school}".encode(),
        value=registered(pupil, school).to_json(),
    )
    producer.flush()
    producer.close()
    reports_settings = make_settings("reports")
    log = tmp_path / "access-worker.log"
    with (
        iris_process(["worker", "access"], settings_env(access.settings), log),
        TestClient(reports_app(reports_settings, clock=lambda: TODAY)) as reports,
    ):
        issued_now = reports.post(
            f"/v1/pupils/{pupil}/reports",
            json=report_body(),
            headers=issuer.headers(STAFF, clb_staff_of=[CLB]),
        )
        assert issued_now.status_code == 201, issued_now.text
        made = sessions(access)
        wait_until(
            lambda: send_digests(access.settings, made, TODAY) == 1,
            timeout=90,
            message="the worker to fold the report and the digest to go",
        )
    (mail,) = inbox.to(address(COORDINATOR))
    text = mail.get_content()
    assert f"1 pupil(s) at school {school}" in text
    for secret in (pupil, NAME, *report_body()["content"].values()):
        assert secret not in text
    assert "change skipped" in log.read_text()


def test_the_responsible_is_told_that_a_support_request_waits_and_not_of_its_question(
    mailing_access: Access, smtp
):
    from services.access import schools

    inbox, _port = smtp
    access, school, network = mailing_access, school_id(), "netwerk-gent"
    question = "Noor leest moeilijk (vertrouwelijk-4711)"
    with transaction(sessions(access)) as session:
        schools.import_schools(session, [schools.School(school, f"School {school}", "mainstream")])
    fold(access, registered(NOOR, school))
    sent = access.client.post(
        f"/v1/schools/{school}/support-requests",
        json={"pupil_id": NOOR, "support_network": network, "question": question},
        headers=access.responsible(school),
    )
    assert sent.status_code == 201, sent.text
    accepted = access.client.post(
        f"/v1/support-networks/{network}/support-requests/{sent.json()['support_request_id']}"
        "/accept",
        json={"support_workers": [make_insz("1988-08-08", 77)]},
        headers=access.network(network),
    )
    assert accepted.status_code == 200, accepted.text
    sign_up(access, RESPONSIBLE, school_admin_of=[school])
    assert send_digests(access.settings, sessions(access), TODAY) == 1
    text = inbox.to(address(RESPONSIBLE))[0].get_content()
    assert f"1 support request(s) wait for your decision at school {school}" in text
    assert f"https://access.test/schools/{school}/support-requests" in text
    assert "access request(s)" not in text  # the support request's own, told once
    for secret in (NOOR, question, network, NAME):
        assert secret not in text
