"""Access worker: folds `iris.enrolment.changes` into the access service's copy of the
enrolment register (see services.access.enrolments) and `iris.report.changes` into its
copy of the reports' metadata, noticing what is new to see at each school for the care
coordinators' digest (services.access.news). Run with `iris worker access`.

A value that does not parse is logged with its reason and skipped: the topics are the
enrolment and reports services' canonical output, and the viewer already rejects such a
value to `iris.viewer.rejected`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from iris.contracts import (
    ENROLMENT_CHANGES,
    REPORT_CHANGES,
    EnrolmentChanged,
    Forgotten,
    Topic,
    describe_error,
)
from iris.db import transaction
from iris.settings import Settings
from iris.streams import make_faust_app, raw_topic
from iris.worker_metrics import serve_worker_metrics
from services.access import enrolments, news
from services.access.bootstrap import AccessDeps, bootstrap

log = logging.getLogger(__name__)

settings = Settings()
app = make_faust_app("iris-access", settings)
enrolment_changes = raw_topic(app, ENROLMENT_CHANGES.name)
report_changes = raw_topic(app, REPORT_CHANGES.name)
serve_worker_metrics(app, settings, [ENROLMENT_CHANGES.name, REPORT_CHANGES.name])
_deps: AccessDeps | None = None


def deps() -> AccessDeps:
    """Wired at the first batch: importing the worker connects nowhere."""
    global _deps
    if _deps is None:
        _deps = bootstrap(settings)
    return _deps


def parse_on(topic: Topic, message: Any, kinds: tuple[type, ...]) -> Any | None:
    """The change a message holds, a tombstone as `Forgotten`, or None when it does not
    parse (logged with its reason) or is of a kind this worker does not fold."""
    if message.value is None and message.key:  # a tombstone: the key was purged
        return Forgotten(message.topic, message.key.decode())
    try:
        change = topic.parse(message.value or b"")
    except ValidationError as exc:
        log.warning(
            "change skipped",
            extra={
                "topic": topic.name,
                "reason": describe_error(exc),
                "partition": message.partition,
                "offset": message.offset,
            },
        )
        return None
    return change if isinstance(change, kinds) else None


def parse(message: Any) -> EnrolmentChanged | Forgotten | None:
    parsed: EnrolmentChanged | Forgotten | None = parse_on(
        ENROLMENT_CHANGES, message, (EnrolmentChanged,)
    )
    return parsed


def parse_report(message: Any) -> news.ReportFact | None:
    parsed: news.ReportFact | None = parse_on(REPORT_CHANGES, message, news.REPORT_FACTS)
    return parsed


def fold_batch(changes: list[EnrolmentChanged | Forgotten]) -> int:
    with transaction(deps().sessions) as session:
        applied = enrolments.fold(session, changes)
        pupils = {c.pair[0] if isinstance(c, Forgotten) else c.pupil_id for c in changes}
        news.notice(session, deps().today(), pupils)
        return applied


def fold_report_batch(changes: list[news.ReportFact]) -> int:
    with transaction(deps().sessions) as session:
        pupils = news.fold_reports(session, changes)
        return news.notice(session, deps().today(), pupils)


async def fold_patiently(fold: Callable[[list[Any]], int], changes: list[Any]) -> None:
    while True:
        try:
            await asyncio.to_thread(fold, changes)
            return
        except Exception as exc:  # database away: keep the batch and try again
            log.warning("folding paused", extra={"error": repr(exc)})
            await asyncio.sleep(0.5)


@app.agent(enrolment_changes)
async def fold_enrolment_changes(stream: Any) -> None:
    async for events in stream.take_events(500, within=0.05):
        changes = [c for c in (parse(e.message) for e in events) if c is not None]
        await fold_patiently(fold_batch, changes)


@app.agent(report_changes)
async def fold_report_changes(stream: Any) -> None:
    async for events in stream.take_events(500, within=0.05):
        changes = [c for c in (parse_report(e.message) for e in events) if c is not None]
        await fold_patiently(fold_report_batch, changes)
