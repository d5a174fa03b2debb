"""Access worker: folds `iris.enrolment.changes` into the access service's copy of
the enrolment register (see services.access.enrolments). Run with `iris worker access`.

A value that does not parse is logged with its reason and skipped: the topic is the
enrolment service's canonical output, and the viewer already rejects such a value
to `iris.viewer.rejected`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import ValidationError

from iris.contracts import ENROLMENT_CHANGES, EnrolmentChanged, Forgotten, describe_error
from iris.db import transaction
from iris.settings import Settings
from iris.streams import make_faust_app, raw_topic
from iris.worker_metrics import serve_worker_metrics
from services.access import enrolments
from services.access.bootstrap import AccessDeps, bootstrap

log = logging.getLogger(__name__)

settings = Settings()
app = make_faust_app("iris-access", settings)
enrolment_changes = raw_topic(app, ENROLMENT_CHANGES.name)
serve_worker_metrics(app, settings, [ENROLMENT_CHANGES.name])
_deps: AccessDeps | None = None


def deps() -> AccessDeps:
    """Wired at the first batch: importing the worker connects nowhere."""
    global _deps
    if _deps is None:
        _deps = bootstrap(settings)
    return _deps


def parse(message: Any) -> EnrolmentChanged | Forgotten | None:
    if message.value is None and message.key:  # a tombstone: the enrolment was purged
        return Forgotten(message.topic, message.key.decode())
    try:
        change = ENROLMENT_CHANGES.parse(message.value or b"")
    except ValidationError as exc:
        log.warning(
            "enrolment change skipped",
            extra={
                "reason": describe_error(exc),
                "partition": message.partition,
                "offset": message.offset,
            },
        )
        return None
    return change if isinstance(change, EnrolmentChanged) else None


def fold_batch(changes: list[EnrolmentChanged | Forgotten]) -> int:
    with transaction(deps().sessions) as session:
        return enrolments.fold(session, changes)


@app.agent(enrolment_changes)
async def fold_enrolment_changes(stream: Any) -> None:
    async for events in stream.take_events(500, within=0.05):
        changes = [c for c in (parse(e.message) for e in events) if c is not None]
        while True:
            try:
                await asyncio.to_thread(fold_batch, changes)
                break
            except Exception as exc:  # database away: keep the batch and try again
                log.warning("folding paused", extra={"error": repr(exc)})
                await asyncio.sleep(0.5)
