"""What the viewer deletes once its retention period has passed (iris.retention): the record
of views and the denials told to the audit topic, each with a tombstone of its key on
`iris.viewer.audit`, and published events."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from iris.contracts import VIEWER_AUDIT
from iris.outbox import add_tombstone
from iris.retention import outbox_kind, rows_past
from services.viewer.models import DenialRow, Outbox, ViewRow


def tombstone_records(session: Session, keys: Iterable[str]) -> None:
    """Queue a tombstone of each view's or denial's key on the audit topic: its message
    leaves the topic at the next compaction, not only when the topic's retention passes
    (a view published again by `iris republish viewer` carries the later timestamp)."""
    for key in keys:
        add_tombstone(session, Outbox, VIEWER_AUDIT, key)


KINDS = (
    rows_past("views", "views", ViewRow.view_id, ViewRow.viewed_at, then=tombstone_records),
    rows_past("denials", "views", DenialRow.denial_id, DenialRow.denied_at, then=tombstone_records),
    outbox_kind(Outbox),
)
