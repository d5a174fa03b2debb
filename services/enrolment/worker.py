"""Enrolment worker: applies submissions that school software publishes on
`iris.enrolment.submitted`. Run with `iris worker enrolment`.

A submission must carry its school-software client's JWT in the `authorization`
header, naming the event's school. The token's times are judged at the moment the broker
appended the submission where the broker stamps that time (LogAppendTime), so that a
backlog waiting out a worker's outage is applied; elsewhere at the moment it is applied.
Anything that does not parse, does not validate or is not authorised goes to
`iris.enrolment.rejected` with the reason, and the worker moves on.

The worker runs an outbox relay of its own, woken by each batch's commit: while it
drains a topic it publishes the changes it wrote itself, large batches at a time, and
no other process has to notice them first (see iris.outbox for the election).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from iris import logs
from iris.auth import AuthError, TokenVerifier
from iris.contracts import ENROLMENT_SUBMITTED, describe_error
from iris.kafka import LOG_APPEND_TIME
from iris.settings import Settings
from iris.streams import make_faust_app, raw_topic
from iris.worker_metrics import serve_worker_metrics
from services.enrolment import service
from services.enrolment.bootstrap import Dependencies, bootstrap
from services.enrolment.repository import SqlEnrolmentRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes | None]
    topic: str
    partition: int
    offset: int
    appended_at: float | None = None  # see `append_time`


def append_time(timestamp: float | None, timestamp_type: int | None) -> float | None:
    """When the broker appended a message (epoch seconds), from the message's timestamp:
    only where the broker stamped it (LogAppendTime), which no producer can set. None where
    the timestamp is the producer's own (CreateTime) or missing: then a submission's token
    is judged at the time it is applied."""
    if timestamp_type != LOG_APPEND_TIME or timestamp is None or timestamp <= 0:
        return None
    return float(timestamp)


def bearer_token(headers: dict[str, Any]) -> str:
    """The bearer token of the `authorization` header; ValueError naming what is wrong.

    Kafka headers are untrusted bytes: absent, null (aiokafka gives None), not UTF-8 or
    not `Bearer <token>` are each a reason to refuse, never an error of the worker."""
    raw = next((v for k, v in headers.items() if str(k).lower() == "authorization"), None)
    if raw is None:
        raise ValueError("authorization header with a school-software bearer token is missing")
    try:
        header = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else str(raw)
    except UnicodeDecodeError as exc:
        raise ValueError("authorization: the header is not UTF-8") from exc
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ValueError("authorization header with a school-software bearer token is missing")
    return token.strip()


def _check(
    submission: Submission, verifier: TokenVerifier, max_lifetime: float
) -> tuple[Any, str | None]:
    try:
        event = ENROLMENT_SUBMITTED.parse(submission.value or b"")
    except ValidationError as exc:
        return None, describe_error(exc)
    try:
        token = bearer_token(submission.headers)
    except ValueError as exc:
        return None, str(exc)
    try:
        # a replay is appended anew: its token is judged at that later time
        principal = verifier.verify(token, at=submission.appended_at)
    except AuthError as exc:
        return None, f"authorization: {exc}"
    if principal.school_client_of is None:
        return None, "authorization: only a school-software client may submit enrolments"
    if principal.school_client_of != event.school_id:
        return None, "authorization: the token names another school than the event's school_id"
    issued, expires = principal.claims.get("iat"), principal.claims.get("exp")
    if not isinstance(issued, int | float) or not isinstance(expires, int | float):
        return None, "authorization: the token must carry iat and exp"
    if expires - issued > max_lifetime:
        # anyone who reads the topic could replay the message while its token lives
        return None, f"authorization: a submission token may live {int(max_lifetime)} s at most"
    return event, None


def submission_problem(
    submission: Submission, verifier: TokenVerifier, max_lifetime: float = 900.0
) -> tuple[Any, str | None]:
    """The parsed event, or the reason it is refused. Never raises: whatever goes wrong
    with one message is that message's reason."""
    try:
        return _check(submission, verifier, max_lifetime)
    except Exception as exc:
        log.warning("submission could not be checked", exc_info=True)
        return None, f"submission could not be handled ({type(exc).__name__})"


def _key_text(key: Any) -> str | None:
    """The submitted key as text that any database stores (no NUL, bounded)."""
    if key is None:
        return None
    text = key.decode(errors="replace") if isinstance(key, bytes | bytearray) else str(key)
    return text.replace("\x00", "\ufffd")[:200]


def _reject(session: Session, submission: Submission, reason: str) -> None:
    logs.event_id.set(f"{submission.topic}/{submission.partition}/{submission.offset}")
    log.info(
        "submission rejected",
        extra={"reason": reason, "offset": submission.offset, "partition": submission.partition},
    )
    original = submission.value if isinstance(submission.value, bytes | None) else None
    service.reject(
        SqlEnrolmentRepository(session),
        _key_text(submission.key),
        original,
        reason,
        submission.topic,
        submission.partition,
        submission.offset,
    )


def _apply_checked(
    sessions: sessionmaker[Session],
    batch: list[Submission],
    checked: list[tuple[Any, str | None]],
) -> int:
    """Apply the accepted events and reject the others, in one transaction."""
    accepted = [event for event, _reason in checked if event is not None]
    changed = 0
    with sessions() as session, session.begin():
        outcomes = iter(
            service.apply_submissions(
                SqlEnrolmentRepository(session),
                accepted,
                school_years_ahead=settings.enrolment_school_years_ahead,
            )
        )
        for submission, (event, reason) in zip(batch, checked, strict=True):
            if event is not None:
                outcome = next(outcomes)
                if isinstance(outcome, service.Outcome):
                    changed += outcome.changed
                    continue
                reason = f"{outcome.field}: {outcome.message}"
            _reject(session, submission, reason or "refused")
    return changed


def apply_batch(
    sessions: sessionmaker[Session],
    verifier: TokenVerifier,
    batch: list[Submission],
    max_lifetime: float = 900.0,
) -> int:
    """Apply a batch in one transaction; a rule broken by one event rejects only that event.

    Should the batch fail for another reason than a concurrent write (IntegrityError, which
    the caller retries) or the database itself, each submission is applied on its own, and
    one that still fails is rejected with the reason: no message takes others down."""
    checked = [submission_problem(submission, verifier, max_lifetime) for submission in batch]
    try:
        return _apply_checked(sessions, batch, checked)
    except (IntegrityError, OperationalError, InterfaceError):
        raise
    except Exception:
        log.warning("batch failed; applying its submissions one by one", exc_info=True)
    finally:
        logs.event_id.set(None)
    changed = 0
    for submission, outcome in zip(batch, checked, strict=True):
        try:
            changed += _apply_checked(sessions, [submission], [outcome])
        except (IntegrityError, OperationalError, InterfaceError):
            raise
        except Exception as exc:
            with sessions() as session, session.begin():
                _reject(
                    session, submission, f"submission could not be applied ({type(exc).__name__})"
                )
        finally:
            logs.event_id.set(None)
    return changed


settings = Settings()
app = make_faust_app("iris-enrolment", settings)
submitted = raw_topic(app, ENROLMENT_SUBMITTED.name)
serve_worker_metrics(app, settings, [ENROLMENT_SUBMITTED.name])
_deps: Dependencies | None = None
# One thread runs the worker's transactions and its relay's, in turn: on SQLite they would
# otherwise wait on each other's write lock by sleeping and retrying.
_database = ThreadPoolExecutor(1, thread_name_prefix="enrolment-db")


def dependencies() -> Dependencies:
    global _deps
    if _deps is None:
        # School software sends one token with every submission while it lives: the
        # verifier remembers verified tokens (never past their expiry), so a token's
        # signature is checked once rather than per event.
        _deps = bootstrap(settings, remember_tokens=10_000, relay_executor=_database)
    return _deps


@app.task
async def relay_outbox() -> None:
    """Publish the outbox from this process too (unless IRIS_OUTBOX_RELAY=false)."""
    if settings.outbox_relay:
        await dependencies().store.relay.run()


def submission_of(message: Any) -> Submission:
    """The submission a consumed message (faust's) holds."""
    appended_at = append_time(message.timestamp, message.timestamp_type)
    if appended_at is None:
        _say_unstamped()
    return Submission(
        message.key,
        message.value,
        dict(message.headers or {}),
        message.topic,
        message.partition,
        message.offset,
        appended_at,
    )


@functools.cache
def _say_unstamped() -> None:
    log.warning(
        "submissions carry no append time of the broker's (message.timestamp.type is not "
        "LogAppendTime, or the broker does not stamp it): their tokens are judged when applied"
    )


@app.agent(submitted)
async def apply_submissions(stream: Any) -> None:
    deps = dependencies()
    sessions, verifier, relay = deps.store.sessions, deps.verifier, deps.store.relay
    loop = asyncio.get_running_loop()
    async for events in stream.take_events(2000, within=0.05):
        batch = [submission_of(e.message) for e in events]
        for attempt in range(3):
            try:
                await loop.run_in_executor(
                    _database,
                    apply_batch,
                    sessions,
                    verifier,
                    batch,
                    settings.submission_token_max_lifetime_seconds,
                )
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        relay.notify()
