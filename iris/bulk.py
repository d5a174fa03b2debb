"""Inserting many rows in one statement execution, without SQLAlchemy's per-row work.

A Core `insert(table)` executed with a list of dicts compiles each row's parameters
through SQLAlchemy (tens of microseconds a row); a worker that writes thousands of rows a
second spends more time there than in the database. `insert_rows` compiles the statement
once per table, dialect and column list, runs each column's bind processor (SQLite's
dates and times) and hands the driver plain rows for one `executemany`. Python-side
column defaults are not applied: name every column the rows need."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert

_Compiled = tuple[str, list[int], list[Callable[[Any], Any] | None], list[str] | None]
_COMPILED: dict[tuple[str, str, tuple[str, ...]], _Compiled] = {}


def _compile(connection: Connection, table: Table, columns: tuple[str, ...]) -> _Compiled:
    """The driver's SQL, and for each parameter its column's index and bind processor;
    the parameter names when the driver takes named parameters."""
    key = (table.name, connection.dialect.name, columns)
    found = _COMPILED.get(key)
    if found is None:
        compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
        processors: dict[str, Any] = dict(compiled._bind_processors)
        names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        order = [columns.index(compiled.binds[name].key) for name in names]
        found = (
            compiled.string,
            order,
            [processors.get(name) for name in names],
            None if compiled.positional else names,
        )
        _COMPILED[key] = found
    return found


def insert_rows(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT `rows` (each a value per column of `columns`, in that order) into `table`
    with one executemany on the transaction's connection."""
    if not rows:
        return
    sql, order, processors, names = _compile(connection, table, tuple(columns))
    converted = [[row[i] for i in order] for row in rows]
    for position, process in enumerate(processors):
        if process is not None:
            _convert(converted, position, process)
    if names is None:
        connection.exec_driver_sql(sql, [tuple(row) for row in converted])
    else:
        connection.exec_driver_sql(sql, [dict(zip(names, row, strict=True)) for row in converted])


def _convert(rows: list[list[Any]], position: int, process: Callable[[Any], Any]) -> None:
    """Run a column's bind processor once per distinct value (a batch repeats its time)."""
    done: dict[Any, Any] = {None: None}
    for row in rows:
        value = row[position]
        try:
            row[position] = done[value]
        except KeyError:
            row[position] = done[value] = process(value)
        except TypeError:  # not hashable
            row[position] = process(value)
