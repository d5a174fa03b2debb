import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from iris.contracts import REPORT_CHANGES, ReportIssued, ReportWithdrawn
from services.reports import domain
from services.reports.republish import republish
from tests.reports.conftest import CLB, Reports, new_pupil, report_body

pytestmark = pytest.mark.integration


def fold(events: list[dict[str, Any]]) -> list[domain.ReportVersion]:
    """What a consumer of the topic knows about a pupil's versions, in sequence order."""
    versions: dict[int, domain.ReportVersion] = {}
    parsed = sorted((REPORT_CHANGES.parse(json.dumps(e)) for e in events), key=lambda e: e.sequence)
    for event in parsed:
        if isinstance(event, ReportIssued):
            versions[event.version] = domain.ReportVersion(
                event.report_id,
                event.pupil_id,
                event.version,
                event.kind,
                event.clb_id,
                event.valid_from,
                event.issued_at,
                None,
                None,
                None,
                event.sequence,
            )
        elif isinstance(event, ReportWithdrawn):
            issued = versions[event.version]
            versions[event.version] = domain.ReportVersion(
                **{
                    **vars(issued),
                    "withdrawn_at": event.withdrawn_at,
                    "withdrawn_on": event.withdrawn_on,
                    "withdraw_sequence": event.sequence,
                }
            )
    return list(versions.values())


def topic_current(reports: Reports, pupil: str, count: int) -> int | None:
    current = domain.current(fold(reports.events_of(pupil, count)), reports.clock())
    return current.version if current else None


def test_a_future_version_becomes_current_on_its_date_and_withdrawing_it_leaves_none(
    reports: Reports,
):
    pupil = new_pupil()
    reports.clock.move_to(date(2026, 11, 28))
    v1 = reports.issue(pupil, valid_from="2026-09-01")
    assert reports.current_version(pupil) == 1 and topic_current(reports, pupil, 1) == 1

    v2 = reports.issue(pupil, valid_from="2026-11-01", kind="GC", type=None)
    v3 = reports.issue(pupil, valid_from="2027-01-04", type="3")
    assert [v1["version"], v2["version"], v3["version"]] == [1, 2, 3]
    assert reports.current_version(pupil) == 2
    assert topic_current(reports, pupil, 3) == 2
    statuses = {v["version"]: v["status"] for v in reports.history(pupil)}
    assert statuses == {1: "superseded", 2: "current", 3: "scheduled"}
    assert reports.content_status(v2["report_id"]) == 200
    assert reports.content_status(v1["report_id"]) == 404
    assert reports.content_status(v3["report_id"]) == 404

    reports.clock.move_to(date(2027, 1, 3))
    assert reports.current_version(pupil) == 2 and topic_current(reports, pupil, 3) == 2

    reports.clock.move_to(date(2027, 1, 4))
    assert reports.current_version(pupil) == 3 and topic_current(reports, pupil, 3) == 3
    assert reports.content_status(v3["report_id"]) == 200
    assert reports.content_status(v2["report_id"]) == 404
    assert reports.content_status(v1["report_id"]) == 404

    withdrawn = reports.withdraw(v3["report_id"])
    assert withdrawn["changed"] and withdrawn["status"] == "withdrawn"
    assert reports.current_version(pupil) is None
    assert topic_current(reports, pupil, 4) is None
    for report in (v1, v2, v3):
        assert reports.content_status(report["report_id"]) == 404

    events = reports.events_of(pupil, 4)
    assert [(e["type"], e["version"], e["sequence"]) for e in events] == [
        ("ReportIssued", 1, 1),
        ("ReportIssued", 2, 2),
        ("ReportIssued", 3, 3),
        ("ReportWithdrawn", 3, 4),
    ]
    assert events[3]["withdrawn_on"] == "2027-01-04"
    assert [e["valid_from"] for e in events[:3]] == ["2026-09-01", "2026-11-01", "2027-01-04"]


def test_a_version_withdrawn_before_its_date_never_replaces_the_current_one(reports: Reports):
    pupil = new_pupil()
    reports.issue(pupil, valid_from="2026-09-01")
    scheduled = reports.issue(pupil, valid_from="2027-02-01")
    reports.withdraw(scheduled["report_id"])
    reports.clock.move_to(date(2027, 3, 1))
    assert reports.current_version(pupil) == 1
    assert topic_current(reports, pupil, 3) == 1


def test_withdrawing_twice_answers_200_and_publishes_one_withdrawal(reports: Reports):
    pupil = new_pupil()
    v1 = reports.issue(pupil)
    first = reports.withdraw(v1["report_id"])
    again = reports.withdraw(v1["report_id"])
    assert first["changed"] and not again["changed"]
    assert again["withdrawn_at"] == first["withdrawn_at"]
    reports.issue(pupil, valid_from="2026-10-01")  # a later change, to know the topic caught up
    events = reports.events_of(pupil, 3)
    assert [e["type"] for e in events] == ["ReportIssued", "ReportWithdrawn", "ReportIssued"]
    assert [e["sequence"] for e in events] == [1, 2, 3]
    assert [e["version"] for e in events] == [1, 1, 2]


def test_twenty_concurrent_issues_get_gapless_versions_and_one_event_each(reports: Reports):
    pupil = new_pupil()
    start = threading.Barrier(20)
    headers = reports.staff()

    def issue(_n: int) -> Any:
        start.wait()
        return reports.client.post(
            f"/v1/pupils/{pupil}/reports", json=report_body(), headers=headers
        )

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(issue, range(20)))
    assert [a.status_code for a in answers] == [201] * 20
    assert sorted(a.json()["version"] for a in answers) == list(range(1, 21))
    assert len({a.json()["report_id"] for a in answers}) == 20
    assert [v["version"] for v in reports.history(pupil)] == list(range(1, 21))
    assert reports.current_version(pupil) == 20

    events = reports.events_of(pupil, 20)
    reports.reader.settled()
    events = [m.value for m in reports.reader.messages if m.pupil == pupil]
    assert [e["version"] for e in events] == list(range(1, 21))
    assert [e["sequence"] for e in events] == list(range(1, 21))
    assert {e["report_id"] for e in events} == {a.json()["report_id"] for a in answers}


def test_only_clb_staff_see_the_version_history(reports: Reports):
    pupil = new_pupil()
    reports.issue(pupil)
    school_admin = reports.issuer.headers("84022512345", school_admin_of=["123456"])
    assert (
        reports.client.get(f"/v1/pupils/{pupil}/reports", headers=school_admin).status_code == 403
    )
    assert reports.client.get(f"/v1/pupils/{pupil}/reports").status_code == 401
    listed = reports.history(pupil)
    assert [v["version"] for v in listed] == [1]
    assert "content" not in listed[0] and "needs" not in str(listed[0])


def test_the_internal_endpoint_answers_only_the_viewer_with_the_agreed_shape(reports: Reports):
    pupil = new_pupil()
    report = reports.issue(pupil, level="secondary", opleidingsvorm=4, kind="OV4", type=7)
    url = f"/internal/reports/{report['report_id']}"
    internal = reports.settings.internal_audience
    callers = {
        "nobody": {},
        "a person's token": reports.staff(),
        "another service": reports.issuer.service("access"),
        "a person with the internal audience": reports.issuer.headers(
            "84022512345", audience=internal, clb_staff_of=[CLB]
        ),
    }
    for who, headers in callers.items():
        assert reports.client.get(url, headers=headers).status_code in (401, 403), who

    answer = reports.client.get(url, headers=reports.viewer())
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert set(body) == {
        "report_id", "pupil_id", "version", "kind", "clb_id", "valid_from", "issued_at",
        "type", "opleidingsvorm", "level", "content",
    }  # fmt: skip
    assert set(body["content"]) == {"needs", "advice", "measures_taken", "reasoning"}
    assert (body["kind"], body["type"], body["opleidingsvorm"], body["level"]) == (
        "OV4",
        "7",
        4,
        "secondary",
    )
    assert body["content"] == report_body()["content"]
    unknown = reports.client.get(f"/internal/reports/{uuid.uuid4()}", headers=reports.viewer())
    assert unknown.status_code == 404


def test_republishing_queues_every_change_again_in_order(reports: Reports):
    pupil = new_pupil()
    v1 = reports.issue(pupil)
    reports.issue(pupil, valid_from="2026-10-01")
    reports.withdraw(v1["report_id"])
    before = reports.events_of(pupil, 3)
    queued = republish(reports.settings)
    assert queued == 3
    reports.client.app.state.deps.store.relay.notify()  # type: ignore[attr-defined]
    after = reports.events_of(pupil, 6)
    assert [(e["type"], e["version"], e["sequence"]) for e in after[3:]] == [
        (e["type"], e["version"], e["sequence"]) for e in before
    ]


def test_twenty_concurrent_retries_with_one_idempotency_key_make_one_version(reports: Reports):
    pupil = new_pupil()
    start = threading.Barrier(20)
    headers = {**reports.staff(), "Idempotency-Key": f"clb-request-{uuid.uuid4()}"}

    def issue(_n: int) -> Any:
        start.wait()
        return reports.client.post(
            f"/v1/pupils/{pupil}/reports", json=report_body(), headers=headers
        )

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(issue, range(20)))
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    assert {a.json()["report_id"] for a in answers} == {answers[0].json()["report_id"]}
    assert [v["version"] for v in reports.history(pupil)] == [1]

    reports.issue(pupil, valid_from="2026-10-01")  # a later change, to know the topic caught up
    events = reports.events_of(pupil, 2)
    assert [(e["version"], e["sequence"]) for e in events] == [(1, 1), (2, 2)]


def test_an_idempotency_key_reused_for_another_request_is_refused(reports: Reports):
    pupil = new_pupil()
    headers = {**reports.staff(), "Idempotency-Key": "retry-1"}
    first = reports.client.post(f"/v1/pupils/{pupil}/reports", json=report_body(), headers=headers)
    assert first.status_code == 201
    other = reports.client.post(
        f"/v1/pupils/{pupil}/reports", json=report_body(valid_from="2026-10-01"), headers=headers
    )
    assert other.status_code == 409
    assert other.json()["fields"] == ["Idempotency-Key"]
    assert [v["version"] for v in reports.history(pupil)] == [1]
