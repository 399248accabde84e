"""Many-row INSERTs through the driver's executemany, for the hot paths (imports, webhooks).

Statements are compiled once per table, dialect and conflict rule, and values go through
SQLAlchemy's own bind processors (our column types included), so they are what
`connection.execute(table.insert(), rows)` would send; only SQLAlchemy's per-row bookkeeping,
which dominated large imports, is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]


class _CompiledInsert:
    def __init__(
        self, table: sa.Table, dialect: sa.Dialect, ignore_conflicts_on: tuple[str, ...]
    ) -> None:
        statement: sa.Insert = table.insert()
        if ignore_conflicts_on:
            insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
            statement = insert(table).on_conflict_do_nothing(
                index_elements=list(ignore_conflicts_on)
            )
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.positional = bool(compiled.positiontup)
        self.order = list(compiled.positiontup or compiled.binds)
        columns = {column.key: column for column in table.columns}
        self.processors = [
            (name, columns[name].type._cached_bind_processor(dialect)) for name in self.order
        ]

    def parameters(self, rows: Sequence[Row]) -> list[Any]:
        processors = self.processors
        if self.positional:
            return [
                tuple(proc(row.get(name)) if proc else row.get(name) for name, proc in processors)
                for row in rows
            ]
        return [
            {name: proc(row.get(name)) if proc else row.get(name) for name, proc in processors}
            for row in rows
        ]


_COMPILED: dict[tuple[str, str, tuple[str, ...]], _CompiledInsert] = {}


def bulk_insert(
    connection: sa.Connection,
    table: sa.Table,
    rows: Sequence[Row],
    *,
    ignore_conflicts_on: tuple[str, ...] = (),
) -> None:
    """INSERT every row (a column a row leaves out is NULL), skipping rows that clash on
    `ignore_conflicts_on`."""
    key = (table.name, connection.dialect.name, ignore_conflicts_on)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = _CompiledInsert(table, connection.dialect, ignore_conflicts_on)
    if not connection.in_transaction():
        # The raw cursor would bypass autobegin (and on SQLite run in autocommit mode).
        connection.begin()
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(compiled.sql, compiled.parameters(rows))
    except Exception as exc:
        # Surface driver errors as SQLAlchemy's, as connection.execute would.
        raise sa.exc.DBAPIError.instance(
            compiled.sql, None, exc, connection.dialect.loaded_dbapi.Error
        ) from exc
    finally:
        cursor.close()
