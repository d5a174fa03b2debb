"""What operators rely on, on the running stack: revokes honoured, metrics, JSON logs.
How fast a revoke is honoured is measured in bench/, not asserted here."""

from __future__ import annotations

import re
import uuid

import httpx

from iris.insz import make_insz
from tests.e2e.test_golden_path import content as golden_content
from tests.logcheck import check_log_files
from tests.support import wait_until

SCHOOL, CLB = "220003", "113001"
RESPONSIBLE = make_insz("1975-03-03", 21)
CLB_STAFF = make_insz("1978-05-09", 15)


def prepare_pupil(running, http: httpx.Client, pupil: str, report_content: dict) -> None:
    """Enrol the pupil at SCHOOL and issue a report, through the services' APIs."""
    school = running.headers(f"client:{SCHOOL}", school_id=SCHOOL)
    enrolled = http.post(
        f"{running.urls['enrolment']}/v1/enrolments",
        headers=school,
        json={"pupil_id": pupil, "school_id": SCHOOL, "start_date": "2026-09-01"},
    )
    assert enrolled.status_code == 200, enrolled.text
    issued = http.post(
        f"{running.urls['reports']}/v1/pupils/{pupil}/reports",
        headers=running.headers(CLB_STAFF, clb_staff_of=[CLB]),
        json={
            "kind": "GC",
            "clb_id": CLB,
            "valid_from": "2026-09-01",
            "level": "primary",
            "content": report_content,
        },
    )
    assert issued.status_code == 201, issued.text


def view_status(running, http: httpx.Client, person: str, pupil: str) -> int:
    return http.get(
        f"{running.urls['viewer']}/pupils/{pupil}/report",
        headers=running.headers(person, name="Tester"),
    ).status_code


def test_twenty_revocations_are_each_honoured_by_the_viewer(running, http):
    pupil = make_insz("2014-04-04", 401)
    prepare_pupil(
        running,
        http,
        pupil,
        {
            "needs": "Revoke test needs.",
            "advice": "Revoke test advice.",
            "measures_taken": "Revoke test measures.",
            "reasoning": "Revoke test reasoning.",
        },
    )
    responsible = running.headers(RESPONSIBLE, school_admin_of=[SCHOOL])
    for serial in range(20):
        person = make_insz("1990-01-01", 500 + serial)
        grant = http.post(
            f"{running.urls['access']}/v1/schools/{SCHOOL}/grants",
            headers=responsible,
            json={"person_id": person, "role": "teacher", "valid_from": "2026-09-01"},
        )
        assert grant.status_code == 200, grant.text
        wait_until(
            lambda p=person: view_status(running, http, p, pupil) == 200,
            timeout=30,
            message="the grant to take effect",
        )
        revoked = http.post(
            f"{running.urls['access']}/v1/schools/{SCHOOL}/grants/{grant.json()['grant_id']}"
            "/revoke",
            headers=responsible,
            json={},
        )
        assert revoked.status_code == 200, revoked.text
        wait_until(
            lambda p=person: view_status(running, http, p, pupil) == 404,
            timeout=10,
            interval=0.01,
            message="the revoke to be honoured",
        )


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text exposition (None when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_every_service_and_worker_exposes_the_operators_metrics_after_traffic(running, http):
    pupil = make_insz("2014-05-05", 402)
    prepare_pupil(running, http, pupil, golden_content(9))
    teacher = make_insz("1991-02-02", 601)
    http.post(
        f"{running.urls['access']}/v1/schools/{SCHOOL}/grants",
        headers=running.headers(RESPONSIBLE, school_admin_of=[SCHOOL]),
        json={"person_id": teacher, "role": "teacher", "valid_from": "2026-09-01"},
    )
    wait_until(
        lambda: view_status(running, http, teacher, pupil) == 200,
        timeout=30,
        message="an allowed view",
    )
    assert view_status(running, http, make_insz("1991-03-03", 602), pupil) == 404

    scraped = {name: http.get(f"{url}/metrics").text for name, url in running.urls.items()}
    for service in ("enrolment", "reports", "access", "viewer"):
        text = scraped[service]
        posted = sum(
            float(v)
            for v in re.findall(
                rf'iris_http_requests_total{{[^}}]*service="{service}"[^}}]*}} (\S+)', text
            )
        )
        assert posted > 0, f"{service} counted no requests"
        assert "iris_http_request_duration_seconds_bucket" in text, service
        backlog = metric(text, "iris_outbox_backlog", service=service)
        if service != "access" or backlog is not None:
            assert backlog is not None and backlog >= 0, f"{service} outbox backlog"
    viewer = scraped["viewer"]
    assert (metric(viewer, "iris_authz_decisions_total", outcome="allowed") or 0) >= 1
    assert (metric(viewer, "iris_authz_decisions_total", outcome="denied") or 0) >= 1
    assert metric(viewer, "iris_viewer_cache_ready") == 1.0
    for worker, topic in (
        ("enrolment-worker", "iris.enrolment.submitted"),
        ("viewer-worker", "iris.access.grants"),
    ):
        lags = [
            float(v)
            for v in re.findall(
                rf'iris_consumer_lag{{[^}}]*topic="{re.escape(topic)}"[^}}]*}} (\S+)',
                scraped[worker],
            )
        ]
        assert lags and all(lag >= 0 for lag in lags), f"{worker} reports no lag for {topic}"


def test_every_log_line_of_the_stack_is_json_and_free_of_report_content(running, http):
    marker = uuid.uuid4().hex
    distinctive = {
        "needs": f"Logcheck needs {marker} " + "zeer specifieke nood " * 40,
        "advice": f"Logcheck advice {marker} " + "uitzonderlijk advies " * 40,
        "measures_taken": f"Logcheck measures {marker}",
        "reasoning": f"Logcheck reasoning {marker}",
    }
    pupil = make_insz("2014-06-06", 403)
    prepare_pupil(running, http, pupil, distinctive)
    teacher = make_insz("1991-04-04", 603)
    http.post(
        f"{running.urls['access']}/v1/schools/{SCHOOL}/grants",
        headers=running.headers(RESPONSIBLE, school_admin_of=[SCHOOL]),
        json={"person_id": teacher, "role": "teacher", "valid_from": "2026-09-01"},
    )
    page = wait_until(
        lambda: (
            (
                r := http.get(
                    f"{running.urls['viewer']}/pupils/{pupil}/report",
                    headers=running.headers(teacher, name="T"),
                )
            ).status_code
            == 200
            and r
        ),
        timeout=30,
        message="the report page",
    )
    assert marker in page.text, "the page shows the content; the logs must not"

    forbidden = [v for v in distinctive.values()] + [marker]
    forbidden += [text for n in (1, 2, 9) for text in golden_content(n).values()]
    logs = running.log_files()
    assert {p.stem for p in logs} >= {
        "enrolment",
        "reports",
        "access",
        "viewer",
        "issuer",
        "enrolment-worker",
        "viewer-worker",
    }
    problems = check_log_files(logs, forbidden=forbidden)
    assert problems.lines_read > 100
    assert problems.ok, problems.summary()
