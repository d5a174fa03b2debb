"""The moment a submission's token is judged at: the broker's append time where the broker
stamped one (LogAppendTime), else the moment the worker applies the submission."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from iris.auth import TokenVerifier, TrustedIssuer
from iris.insz import make_insz
from iris.kafka import LOG_APPEND_TIME
from services.enrolment.worker import Submission, append_time, submission_of, submission_problem
from tests.support import Issuer

SCHOOL = "52009"
PUPIL = make_insz("2015-11-11", 1)
CREATE_TIME = 0


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Issuer:
    return Issuer(tmp_path_factory.mktemp("submission-time"))


@pytest.fixture
def verifier(issuer: Issuer) -> TokenVerifier:
    return TokenVerifier([TrustedIssuer(issuer.issuer, issuer.jwks_url)], "iris", leeway=1)


def submitted(token: str, appended_at: float | None) -> Submission:
    value = {
        "type": "EnrolmentRegistered",
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2026-09-01T07:30:00Z",
        "pupil_id": PUPIL,
        "school_id": SCHOOL,
        "start_date": "2026-09-01",
        "source": "test",
    }
    headers: dict[str, Any] = {"authorization": f"Bearer {token}".encode()}
    return Submission(b"k", json.dumps(value).encode(), headers, "t", 0, 0, appended_at)


def lapsed_token(issuer: Issuer, issued: int) -> str:
    """A token of the school's client that lived 5 s from `issued`."""
    return issuer.token(
        f"client:{SCHOOL}", school_id=SCHOOL, iat=issued, nbf=issued, exp=issued + 5
    )


@pytest.mark.parametrize(
    "timestamp, timestamp_type, expected",
    [
        (1_800_000_000.25, LOG_APPEND_TIME, 1_800_000_000.25),
        (1_800_000_000.25, CREATE_TIME, None),  # the producer's own time: anyone may set it
        (None, LOG_APPEND_TIME, None),
        (-0.001, LOG_APPEND_TIME, None),  # Kafka's "no timestamp" (-1 ms)
        (1_800_000_000.25, None, None),
    ],
)
def test_only_a_time_the_broker_stamped_counts_as_the_append_time(
    timestamp, timestamp_type, expected
):
    assert append_time(timestamp, timestamp_type) == expected


class Message:
    """What faust's consumer hands the worker (faust.types.tuples.Message), in part."""

    def __init__(self, timestamp: float, timestamp_type: int) -> None:
        self.key, self.value, self.headers = b"k", b"{}", [("authorization", b"Bearer x")]
        self.topic, self.partition, self.offset = "iris.enrolment.submitted", 2, 7
        self.timestamp, self.timestamp_type = timestamp, timestamp_type


def test_a_consumed_message_carries_its_append_time_into_the_submission():
    stamped = submission_of(Message(1_800_000_000.5, LOG_APPEND_TIME))
    assert stamped.appended_at == 1_800_000_000.5
    assert stamped.headers == {"authorization": b"Bearer x"} and stamped.offset == 7
    assert submission_of(Message(1_800_000_000.5, CREATE_TIME)).appended_at is None


def test_a_token_valid_when_its_submission_was_appended_passes_after_it_expired(issuer, verifier):
    issued = int(time.time()) - 1200  # the worker was down for twenty minutes
    event, reason = submission_problem(
        submitted(lapsed_token(issuer, issued), appended_at=issued + 2), verifier
    )
    assert reason is None and event.pupil_id == PUPIL


def test_without_an_append_time_the_token_is_judged_now(issuer, verifier):
    issued = int(time.time()) - 1200
    event, reason = submission_problem(
        submitted(lapsed_token(issuer, issued), appended_at=None), verifier
    )
    assert event is None and reason == "authorization: token expired"


def test_a_token_already_expired_when_appended_is_refused_as_a_replay(issuer, verifier):
    issued = int(time.time()) - 1200
    event, reason = submission_problem(
        submitted(lapsed_token(issuer, issued), appended_at=issued + 60), verifier
    )
    assert event is None and reason == "authorization: token expired"


def test_a_token_issued_after_its_submission_was_appended_is_refused(issuer, verifier):
    issued = int(time.time())
    event, reason = submission_problem(
        submitted(lapsed_token(issuer, issued), appended_at=issued - 30), verifier
    )
    assert event is None and reason == "authorization: token not yet valid"


def test_the_longest_life_of_a_token_holds_whatever_the_moment(issuer, verifier):
    issued = int(time.time()) - 7200
    token = issuer.token(
        f"client:{SCHOOL}", school_id=SCHOOL, iat=issued, nbf=issued, exp=issued + 3600
    )
    event, reason = submission_problem(
        submitted(token, appended_at=issued + 10), verifier, max_lifetime=900
    )
    assert event is None and reason is not None and "900 s at most" in reason
