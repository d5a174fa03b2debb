"""Rows written by `iris.bulk.insert_rows` read back as the ORM wrote them, on the
configured database (SQLite's dates and times go through their bind processors)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from iris.bulk import insert_rows
from iris.db import make_engine, make_sessionmaker
from services.enrolment.models import EnrolmentRow
from services.enrolment.repository import ENROLMENTS, ROW_COLUMNS


def test_bulk_rows_read_back_with_their_dates_flags_and_nulls(make_settings):
    url = make_settings("enrolment").database_url_for("enrolment")
    engine = make_engine(url)
    now = datetime(2026, 9, 1, 7, 30, 15, 123456, tzinfo=UTC)
    rows = [
        ("15101000102", "52007", date(2026, 9, 1), None, None, 1, False, False, now),
        ("15101000203", "52007", date(2026, 9, 1), date(2027, 6, 30), "Zoë", 2, True, True, now),
    ]
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            insert_rows(session.connection(), ENROLMENTS, ROW_COLUMNS, rows)
            # in the column order the table declares, not the caller's
            reordered = ("school_id", "pupil_id", *ROW_COLUMNS[2:])
            third = ("41559", "15101000203", *rows[0][2:])
            insert_rows(session.connection(), ENROLMENTS, reordered, [third])
        with make_sessionmaker(engine)() as session:
            found = session.scalars(select(EnrolmentRow).order_by(EnrolmentRow.id)).all()
            stored = [(*r.to_domain().__dict__.values(), r.updated_at) for r in found]
    finally:
        engine.dispose()
    assert [row[:-1] for row in stored] == [
        rows[0][:-1],
        rows[1][:-1],
        ("15101000203", "41559", *rows[0][2:-1]),
    ]
    assert all(row[-1].replace(tzinfo=row[-1].tzinfo or UTC) == now for row in stored)
