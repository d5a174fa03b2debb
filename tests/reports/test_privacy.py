import logging
import uuid
from collections.abc import Iterator
from datetime import date

import pytest

from iris.logs import JsonFormatter
from services.reports.domain import SECTIONS
from services.reports.republish import republish
from tests.reports.conftest import OTHER_CLB, OTHER_STAFF, Reports, new_pupil, report_body

pytestmark = pytest.mark.integration


class Recorder(logging.Handler):
    """Every log record of every logger, formatted as the services write it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.formatter_ = JsonFormatter("reports")
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.formatter_.format(record))
        self.lines.append(repr(record.args))


@pytest.fixture
def every_log_record() -> Iterator[Recorder]:
    root = logging.getLogger()
    recorder = Recorder()
    level = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(level)


def distinctive_content() -> tuple[dict[str, str], list[str]]:
    """Long sections, each built from its own words, and the fragments that betray them."""
    sections = {}
    fragments = []
    for name in SECTIONS:
        word = f"Zeldzaam{name.title().replace('_', '')}{uuid.uuid4().hex}"
        sentence = f"{word} kreeg op dinsdag logopedie en vroeg om {word[::-1]}. "
        sections[name] = sentence * (15_000 // len(sentence))
        fragments += [word, word[::-1], sentence.strip()]
    return sections, fragments


def test_no_byte_of_report_content_reaches_a_topic_a_log_record_or_an_error(
    every_log_record: Recorder, caplog: pytest.LogCaptureFixture, reports: Reports
):
    caplog.set_level(logging.DEBUG)
    sections, fragments = distinctive_content()
    pupil = new_pupil()

    v1 = reports.issue(pupil, content=sections)
    v2 = reports.issue(pupil, content=sections, valid_from="2027-01-04", kind="GC", type=None)
    assert (
        reports.client.get(f"/internal/reports/{v1['report_id']}", headers=reports.viewer()).json()[
            "content"
        ]
        == sections
    )
    reports.history(pupil)
    reports.clock.move_to(date(2027, 1, 4))
    reports.withdraw(v2["report_id"])

    refusals = [
        reports.client.post(
            f"/v1/pupils/{pupil}/reports",
            json=report_body(content={**sections, "needs": sections["needs"] * 2}),
            headers=reports.staff(),
        ),
        reports.client.post(
            f"/v1/pupils/{pupil}/reports",
            json=report_body(content=sections, kind=sections["advice"][:40]),
            headers=reports.staff(),
        ),
        reports.client.post(
            f"/v1/pupils/{pupil}/reports",
            json=report_body(content=sections),
            headers=reports.staff(OTHER_CLB, sub=OTHER_STAFF),
        ),
        reports.client.post(
            f"/v1/pupils/{pupil}/reports",
            json=report_body(content=sections, level=sections["reasoning"][:30]),
            headers=reports.staff(),
        ),
    ]
    assert [r.status_code for r in refusals] == [422, 422, 403, 422]
    republish(reports.settings)
    reports.client.app.state.deps.store.relay.notify()  # type: ignore[attr-defined]

    reports.events_of(pupil, 6)
    everything = reports.reader.settled()
    assert len([m for m in everything if m.pupil == pupil]) == 6
    published = [
        (m.raw or b"") + (m.key or "").encode() + b"".join(v for _, v in m.headers)
        for m in everything
    ]
    logged = every_log_record.lines + [r.getMessage() for r in caplog.records]
    assert any("report issued" in line for line in logged)
    for fragment in fragments:
        needle = fragment.encode()
        assert not any(needle in raw for raw in published), "content on the topic"
        assert not any(fragment in line for line in logged), "content in a log record"
        assert not any(fragment in r.text for r in refusals), "content in an error"
