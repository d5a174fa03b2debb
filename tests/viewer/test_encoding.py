"""The cache's short values read back as what was written, and its dates compare as text
in date order, as the Lua scripts compare them."""

from __future__ import annotations

import uuid
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.viewer import domain
from services.viewer.encoding import (
    day,
    decode_enrolment,
    decode_grant,
    decode_report,
    encode_enrolment,
    encode_grant,
    encode_report,
    iso_day,
)

in_range = st.dates(min_value=date(1900, 1, 1), max_value=date(6497, 12, 31))
any_date = st.one_of(in_range, st.just(date.max)).map(date.isoformat)
ids = st.uuids().map(str)
pupils = st.lists(st.integers(10**10, 10**11 - 1).map(str), max_size=4).map(tuple)


@given(in_range, in_range)
def test_dates_compare_as_text_in_date_order(a, b):
    assert (day(a.isoformat()) < day(b.isoformat())) == (a < b)
    assert iso_day(day(a.isoformat())) == a.isoformat()


def test_the_open_end_and_a_date_before_1900_compare_the_same_with_any_day():
    today = day("2026-12-03")
    assert iso_day(day("9999-12-31")) == "9999-12-31" and day("9999-12-31") > today
    assert day("1899-05-01") == day("1900-01-01") < today


@given(
    st.builds(
        domain.Enrolment,
        any_date,
        st.one_of(st.none(), any_date),
        st.one_of(st.none(), st.text(min_size=1, max_size=40)),  # "|" included
        st.integers(1, 10**9),
    )
)
def test_an_enrolment_reads_back_as_written(enrolment):
    assert decode_enrolment(encode_enrolment(enrolment)) == enrolment


@given(
    st.builds(
        domain.CachedGrant,
        ids,
        st.sampled_from(["teacher", "care_coordinator", "pupil_counsellor", "support_worker"]),
        st.one_of(st.none(), pupils),
        any_date,
        any_date,
        st.sampled_from(["active", "revoked", "expired"]),
        st.integers(1, 10**9),
    )
)
def test_a_grant_reads_back_as_written_whole_school_or_limited_to_pupils(grant):
    assert decode_grant(encode_grant(grant)) == grant


issued = st.builds(
    domain.IssuedVersion,
    st.integers(1, 99),
    ids,
    st.sampled_from(["IAC", "OV4", "GC", "V", "GV"]),
    any_date,
    st.integers(100000, 999999).map(str),
)
withdrawals = st.builds(domain.Withdrawal, st.integers(1, 99), ids, any_date)


@given(st.lists(issued, max_size=5).map(tuple), st.lists(withdrawals, max_size=5).map(tuple))
def test_a_report_state_reads_back_as_written(issued_versions, withdrawn):
    state = domain.ReportState(issued_versions, withdrawn)
    assert decode_report(encode_report(state)) == state


def test_a_single_version_state_fits_a_compact_hash_field():
    one = domain.ReportState(
        (domain.IssuedVersion(1, str(uuid.uuid4()), "IAC", "2026-09-01", "113001"),)
    )
    assert len(encode_report(one)) <= 64  # Redis keeps hashes of such fields as listpacks
