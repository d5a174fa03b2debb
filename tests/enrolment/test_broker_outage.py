"""A broker outage delays publishing; it loses nothing and doubles nothing."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from iris import infra as local
from iris.insz import make_insz
from services.enrolment.api import create_app
from tests.support import ServiceTopic, wait_until

SCHOOL = "60130"


def test_enrolments_posted_while_the_broker_is_down_are_published_once_when_it_returns(
    make_settings, issuer, tmp_path
):
    port = local.free_port()
    broker = local.start_broker(port, tmp_path / "logs")
    settings = make_settings("enrolment", kafka_bootstrap=broker.url)
    headers = issuer.school_client(SCHOOL)
    pupils = [make_insz("2016-06-01", serial) for serial in range(1, 21)]

    with TestClient(create_app(settings)) as client:
        relay = client.app.state.deps.store.relay  # type: ignore[attr-defined]
        broker.stop()

        expected = set()
        for pupil in pupils:
            answer = client.post(
                "/v1/enrolments",
                json={"pupil_id": pupil, "school_id": SCHOOL, "start_date": "2026-09-01"},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            expected.add((pupil, 1))
        for pupil in pupils[:5]:
            answer = client.post(
                "/v1/enrolments/end",
                json={"pupil_id": pupil, "school_id": SCHOOL, "end_date": "2027-06-30"},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            expected.add((pupil, 2))
        assert relay.published == 0

        broker = local.start_broker(port, tmp_path / "logs")
        try:
            wait_until(
                lambda: relay.published >= len(expected),
                timeout=60,
                message="the outbox drained after the broker returned",
            )
            reader = ServiceTopic(settings, "enrolment", "iris.enrolment.changes")
            published = Counter((m.pupil, m.value["version"]) for m in reader.settled())
            reader.close()
        finally:
            broker.stop()

    assert set(published) == expected
    assert set(published.values()) == {1}, "a change was published more than once"
