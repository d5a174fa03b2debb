import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.reports import domain
from services.reports.domain import ReportVersion

START = date(2026, 9, 1)
PUPIL = "13050601212"


@st.composite
def histories(draw: st.DrawFn) -> list[ReportVersion]:
    """A pupil's versions as the service makes them: numbered 1..n, any dates, some
    withdrawn on some day."""
    count = draw(st.integers(0, 6))
    versions = []
    for n in range(1, count + 1):
        valid_from = START + timedelta(days=draw(st.integers(0, 60)))
        withdrawn_on = draw(st.none() | st.integers(0, 60).map(lambda d: START + timedelta(d)))
        versions.append(
            ReportVersion(
                report_id=uuid.uuid4(),
                pupil_id=PUPIL,
                version=n,
                kind="GC",
                clb_id="1234",
                valid_from=valid_from,
                issued_at=datetime(2026, 9, 1, tzinfo=UTC),
                type=None,
                opleidingsvorm=None,
                level=None,
                issue_sequence=n,
                withdrawn_at=datetime(2026, 9, 1, tzinfo=UTC) if withdrawn_on else None,
                withdrawn_on=withdrawn_on,
                withdraw_sequence=100 + n if withdrawn_on else None,
            )
        )
    return versions


days = st.integers(0, 70).map(lambda d: START + timedelta(days=d))


@given(histories(), days)
def test_the_current_report_has_started_is_not_withdrawn_and_nothing_newer_has_started(
    versions, today
):
    current = domain.current(versions, today)
    if current is None:
        return
    assert current.valid_from <= today and not current.withdrawn
    newer_started = [
        v
        for v in versions
        if v.version > current.version and v.valid_from <= today and not v.cancelled
    ]
    assert newer_started == []


@given(histories(), days, days)
def test_a_superseded_version_never_becomes_current_again(versions, earlier, later):
    earlier, later = min(earlier, later), max(earlier, later)
    before = domain.in_effect(versions, earlier)
    now = domain.current(versions, later)
    if before is not None and now is not None:
        assert now.version >= before.version


@given(histories(), days)
def test_exactly_the_current_version_has_status_current(versions, today):
    statuses = [domain.status_of(v, versions, today) for v in versions]
    current = domain.current(versions, today)
    assert statuses.count("current") == (0 if current is None else 1)


@given(histories())
def test_changes_come_out_in_the_same_order_whatever_order_they_are_read_in(versions):
    forward = domain.changes_in_order(versions)
    backward = domain.changes_in_order(list(reversed(versions)))
    assert [(s, w) for s, w, _ in forward] == [(s, w) for s, w, _ in backward]
    assert [s for s, _, _ in forward] == sorted(s for s, _, _ in forward)
