"""What the viewer deletes once its retention period has passed (iris.retention): the record
of views, and published events (the audit topic's own retention matches the views')."""

from __future__ import annotations

from iris.retention import outbox_kind, rows_past
from services.viewer.models import Outbox, ViewRow

KINDS = (
    rows_past("views", "views", ViewRow.view_id, ViewRow.viewed_at),
    outbox_kind(Outbox),
)
