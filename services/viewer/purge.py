"""What the viewer deletes once its retention period has passed (iris.retention): the record
of views, and published events (the audit topic's own retention matches the views')."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from iris.retention import Kind, outbox_kind
from services.viewer.models import Outbox, ViewRow


def _old_views(session: Session, cutoff: datetime, limit: int | None) -> list[Any]:
    query = (
        select(ViewRow.view_id)
        .where(ViewRow.viewed_at < cutoff)
        .order_by(ViewRow.viewed_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def _forget_views(session: Session, ids: list[Any]) -> None:
    session.execute(delete(ViewRow).where(ViewRow.view_id.in_(ids)))


KINDS = (Kind("views", "views", _old_views, _forget_views), outbox_kind(Outbox))
