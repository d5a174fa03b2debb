"""The column types that recur across the services' tables, each written once.

`school_id: Mapped[SchoolId]` declares the column; arguments of one table's own (an index,
say) go in a `mapped_column()` beside it, which SQLAlchemy merges with the type's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import mapped_column

RowId = Annotated[str, mapped_column(String(36), primary_key=True)]
"""A row's own key: a UUID as text."""

SchoolId = Annotated[str, mapped_column(String(12))]
"""An institution number (a school's or a CLB's)."""

PupilId = Annotated[str, mapped_column(String(11))]
"""A pupil's INSZ."""

Moment = Annotated[datetime, mapped_column(DateTime(timezone=True))]
"""A point in time, with its offset."""

Version = Annotated[int, mapped_column(Integer)]
"""A row's version: last writer wins by it."""
