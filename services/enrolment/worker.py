"""Enrolment worker: applies submissions that school software publishes on
`iris.enrolment.submitted`. Run with `iris worker enrolment`.

A submission must carry its school-software client's JWT in the `authorization`
header, naming the event's school. Anything that does not parse, does not
validate or is not authorised goes to `iris.enrolment.rejected` with the reason,
and the worker moves on.

The worker runs an outbox relay of its own, woken by each batch's commit: while it
drains a topic it publishes the changes it wrote itself, large batches at a time, and
no other process has to notice them first (see iris.outbox for the election).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from iris import logs
from iris.auth import AuthError, TokenVerifier, verifier_for
from iris.contracts import ENROLMENT_SUBMITTED, describe_error
from iris.db import make_engine, make_sessionmaker
from iris.outbox import OutboxRelay
from iris.settings import Settings
from iris.streams import make_faust_app
from iris.worker_metrics import serve_worker_metrics
from services.enrolment import service
from services.enrolment.models import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    topic: str
    partition: int
    offset: int


class VerifiedTokens:
    """Remembers the principal of each bearer token already verified, for a short while.

    School software sends the same token with every submission for an hour; checking
    its RS256 signature once instead of per event is most of a worker's CPU. A token
    is verified again after `ttl` seconds (and never trusted past its own expiry,
    which `verify` checks).
    """

    def __init__(self, verifier: TokenVerifier, ttl: float = 60.0, size: int = 10_000) -> None:
        self.verifier = verifier
        self.ttl = ttl
        self.size = size
        self._known: dict[str, tuple[float, Any]] = {}

    def verify(self, token: str) -> Any:
        now = time.monotonic()
        known = self._known.get(token)
        if known is not None and known[0] > now:
            return known[1]
        principal = self.verifier.verify(token)
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[token] = (now + self.ttl, principal)
        return principal


def submission_problem(
    submission: Submission, verifier: TokenVerifier | VerifiedTokens
) -> tuple[Any, str | None]:
    """The parsed event, or the reason it is refused."""
    try:
        event = ENROLMENT_SUBMITTED.parse(submission.value or b"")
    except ValidationError as exc:
        return None, describe_error(exc)
    header = submission.headers.get("authorization", b"").decode(errors="replace")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None, "authorization header with a school-software bearer token is missing"
    try:
        principal = verifier.verify(token.strip())
    except AuthError as exc:
        return None, f"authorization: {exc}"
    if principal.school_client_of != event.school_id:
        return None, "authorization: the token names another school than the event's school_id"
    return event, None


def apply_batch(
    sessions: sessionmaker[Session],
    verifier: TokenVerifier | VerifiedTokens,
    batch: list[Submission],
) -> int:
    """Apply a batch in one transaction; a rule broken by one event rejects only that event."""
    checked = [submission_problem(submission, verifier) for submission in batch]
    accepted = [event for event, _reason in checked if event is not None]
    changed = 0
    with sessions() as session, session.begin():
        outcomes = iter(
            service.apply_submissions(
                session, accepted, school_years_ahead=settings.enrolment_school_years_ahead
            )
        )
        for submission, (event, reason) in zip(batch, checked, strict=True):
            if event is not None:
                outcome = next(outcomes)
                if isinstance(outcome, service.Outcome):
                    changed += outcome.changed
                    continue
                reason = f"{outcome.field}: {outcome.message}"
            assert reason is not None
            logs.event_id.set(f"{submission.topic}/{submission.partition}/{submission.offset}")
            log.info(
                "submission rejected",
                extra={
                    "reason": reason,
                    "offset": submission.offset,
                    "partition": submission.partition,
                },
            )
            service.reject(
                session,
                submission.key.decode(errors="replace") if submission.key else None,
                submission.value,
                reason,
                submission.topic,
                submission.partition,
                submission.offset,
            )
    logs.event_id.set(None)
    return changed


settings = Settings()
app = make_faust_app("iris-enrolment", settings)
submitted = app.topic(
    ENROLMENT_SUBMITTED.name,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
)
serve_worker_metrics(app, settings, [ENROLMENT_SUBMITTED.name])
_sessions: sessionmaker[Session] | None = None
_verifier: VerifiedTokens | None = None
_relay: OutboxRelay | None = None
# One thread runs the worker's transactions and its relay's, in turn: on SQLite they would
# otherwise wait on each other's write lock by sleeping and retrying.
_database = ThreadPoolExecutor(1, thread_name_prefix="enrolment-db")


def _dependencies() -> tuple[sessionmaker[Session], VerifiedTokens, OutboxRelay]:
    global _sessions, _verifier, _relay
    if _sessions is None or _verifier is None or _relay is None:
        _sessions = make_sessionmaker(make_engine(settings.database_url_for("enrolment")))
        _verifier = VerifiedTokens(verifier_for(settings))
        _relay = OutboxRelay("enrolment", _sessions, Outbox, settings, executor=_database)
    return _sessions, _verifier, _relay


@app.task
async def relay_outbox() -> None:
    """Publish the outbox from this process too (unless IRIS_OUTBOX_RELAY=false)."""
    if settings.outbox_relay:
        await _dependencies()[2].run()


@app.agent(submitted)
async def apply_submissions(stream: Any) -> None:
    sessions, verifier, relay = _dependencies()
    loop = asyncio.get_running_loop()
    async for events in stream.take_events(2000, within=0.05):
        batch = [
            Submission(
                e.message.key,
                e.message.value,
                dict(e.message.headers or {}),
                e.message.topic,
                e.message.partition,
                e.message.offset,
            )
            for e in events
        ]
        for attempt in range(3):
            try:
                await loop.run_in_executor(_database, apply_batch, sessions, verifier, batch)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        relay.notify()
