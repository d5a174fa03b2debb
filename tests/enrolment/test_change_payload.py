"""The change event the register queues is written without a model: it must be the very
JSON the contract's model writes, and read back as the same event."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from iris.contracts import EnrolmentChanged
from iris.insz import make_insz
from services.enrolment import domain
from services.enrolment.repository import changed_payload, trusted_changed_event

enrolments = st.builds(
    domain.Enrolment,
    pupil_id=st.integers(1, 997).map(lambda n: make_insz("2015-10-10", n)),
    school_id=st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    start_date=st.dates(date(2000, 1, 1), date(2040, 1, 1)),
    end_date=st.none() | st.dates(date(2000, 1, 1), date(2040, 1, 1)),
    display_name=st.none() | st.text(min_size=1, max_size=200),
    version=st.integers(1, 10_000),
    combination=st.booleans(),
    ended_by_school_change=st.booleans(),
)
moments = st.datetimes(datetime(2020, 1, 1), datetime(2040, 1, 1)).map(
    lambda moment: moment.replace(tzinfo=UTC)
) | st.just(datetime(2026, 9, 1, 7, 30, tzinfo=UTC) + timedelta(microseconds=1))


@given(enrolments, moments)
def test_the_queued_change_is_the_contracts_own_json(enrolment, now):
    event = trusted_changed_event(enrolment, now)
    payload = changed_payload(enrolment, event.event_id, now)
    assert payload == event.model_dump_json()
    assert EnrolmentChanged.model_validate_json(payload) == event
