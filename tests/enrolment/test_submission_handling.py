"""The enrolment worker's handling of one submission, without a broker: every check of
`submission_problem`, the remembered tokens, and arbitrary bytes, headers and keys
thrown at `apply_batch` against the real database."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from iris.auth import TokenVerifier, TrustedIssuer
from iris.db import make_engine, make_sessionmaker
from iris.insz import make_insz
from services.enrolment.models import Outbox
from services.enrolment.worker import Submission, apply_batch, submission_problem
from tests.support import Issuer, wait_until

SCHOOL = "52007"
REJECTED = "iris.enrolment.rejected"


def registration(pupil: str, **extra: Any) -> bytes:
    return json.dumps(
        {
            "type": "EnrolmentRegistered",
            "schema_version": 1,
            "event_id": str(uuid.uuid4()),
            "occurred_at": "2026-09-01T07:30:00Z",
            "pupil_id": pupil,
            "school_id": SCHOOL,
            "start_date": "2026-09-01",
            "source": "test",
            **extra,
        }
    ).encode()


def submission(
    value: bytes | None, headers: dict[str, Any], key: bytes | None = b"k"
) -> Submission:
    return Submission(key, value, headers, "iris.enrolment.submitted", 0, 0)


def bearer(token: str) -> dict[str, Any]:
    return {"authorization": f"Bearer {token}".encode()}


@pytest.fixture
def verifier(issuer: Issuer) -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(issuer.issuer, issuer.jwks_url)], "iris", leeway=0)


PUPIL = make_insz("2015-10-10", 1)


def test_a_submission_with_its_schools_client_token_is_accepted(issuer, verifier):
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL)
    event, reason = submission_problem(submission(registration(PUPIL), bearer(token)), verifier)
    assert reason is None and event.pupil_id == PUPIL


@pytest.mark.parametrize(
    "headers, expected",
    [
        (lambda i: bearer(i.token("client:41559", school_id="41559")), "another school"),
        (
            lambda i: bearer(i.token(make_insz("1970-01-01", 9), school_admin_of=[SCHOOL])),
            "only a school-software client",
        ),
        (lambda i: {}, "missing"),
        (lambda i: {"authorization": None}, "missing"),
        (lambda i: {"authorization": b""}, "missing"),
        (lambda i: {"authorization": b"Basic dXNlcjpwdw=="}, "missing"),
        (lambda i: {"authorization": b"Bearer \xff\xfe\xfd"}, "not UTF-8"),
        (lambda i: {"authorization": b"Bearer not-a-jwt"}, "malformed"),
        (lambda i: bearer(i.token(f"client:{SCHOOL}", school_id=SCHOOL, ttl=-30)), "expired"),
        (
            lambda i: bearer(i.token(f"client:{SCHOOL}", school_id=SCHOOL, ttl=3600)),
            "900 s at most",
        ),
    ],
)
def test_a_submission_is_refused_with_the_reason(issuer, verifier, headers, expected):
    event, reason = submission_problem(
        submission(registration(PUPIL), headers(issuer)), verifier, max_lifetime=900
    )
    assert event is None and expected in reason


def test_a_remembered_token_is_refused_once_it_has_expired(issuer, verifier):
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL, ttl=2)
    first = submission_problem(submission(registration(PUPIL), bearer(token)), verifier)
    assert first[1] is None
    assert verifier.known(token) is not None  # remembered: its signature is not checked again
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    wait_until(lambda: time.time() > expires + 0.2, timeout=5, message="the token expired")
    later = submission_problem(submission(registration(PUPIL), bearer(token)), verifier)
    assert later[0] is None and "expired" in later[1]


def test_a_value_that_is_not_an_event_is_refused_naming_what_is_wrong(issuer, verifier):
    token = issuer.token(f"client:{SCHOOL}", school_id=SCHOOL)
    for value in (None, b"", b"\xff\xfe", b"[]", b'{"type": "EnrolmentRegistered"}'):
        event, reason = submission_problem(submission(value, bearer(token)), verifier)
        assert event is None and reason


# -- arbitrary input against the database -----------------------------------------------------


@pytest.fixture
def sessions(make_settings):
    url = make_settings("enrolment").database_url_for("enrolment")
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


def rejections(sessions) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(Outbox).where(Outbox.topic == REJECTED)
        return int(session.scalar(query) or 0)


_TOKENS: dict[str, str] = {}


def _token(issuer: Issuer, school: str) -> bytes:
    if school not in _TOKENS:
        _TOKENS[school] = issuer.token(f"client:{school}", school_id=school)
    return f"Bearer {_TOKENS[school]}".encode()


header_values = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.sampled_from(["own", "other", "junk"]),
)
values = st.one_of(
    st.none(),
    st.binary(max_size=80),
    st.builds(
        lambda serial, name, end: registration(
            make_insz("2016-01-01", serial),
            **({"display_name": name} if name is not None else {}),
            **({"end_date": end} if end else {}),
        ),
        st.integers(1, 997),
        st.one_of(st.none(), st.text(max_size=300)),
        st.sampled_from([None, "2026-06-30", "2027-06-30", "not a date"]),
    ),
)
messages = st.tuples(
    st.one_of(st.none(), st.binary(max_size=300)),
    values,
    st.dictionaries(
        st.sampled_from(["authorization", "Authorization", "x-other", ""]), header_values
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(messages, min_size=1, max_size=6))
def test_arbitrary_messages_never_raise_and_each_is_applied_or_rejected(
    sessions, issuer, verifier, batch
):
    def header(value: Any) -> Any:
        if value == "own":
            return _token(issuer, SCHOOL)
        if value == "other":
            return _token(issuer, "41559")
        if value == "junk":
            return b"Bearer \x00\xff.\x01"
        return value

    submissions = [
        Submission(key, value, {k: header(v) for k, v in headers.items()}, "t", 0, n)
        for n, (key, value, headers) in enumerate(batch)
    ]
    passed_checks = sum(submission_problem(s, verifier)[0] is not None for s in submissions)
    before = rejections(sessions)
    apply_batch(sessions, verifier, submissions)
    rejected = rejections(sessions) - before
    # everything the checks refused is rejected; what passed is applied, or rejected
    # when it breaks a rule of the register
    assert len(submissions) - passed_checks <= rejected <= len(submissions)
