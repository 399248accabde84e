"""Many-row INSERTs straight through the driver, for the hot paths (imports, webhooks).

Statements are compiled once per table, dialect and conflict rule, and values go through
SQLAlchemy's own bind processors (our column types included), so they are what
`connection.execute(table.insert(), rows)` would send; only SQLAlchemy's per-row bookkeeping,
which dominated large imports, is skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

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
        self.conflict_clause = (
            f" ON CONFLICT ({', '.join(_quoted(dialect, c) for c in ignore_conflicts_on)})"
            " DO NOTHING"
            if ignore_conflicts_on
            else ""
        )
        self.table_name = _quoted(dialect, table.name)
        self.column_list = ", ".join(_quoted(dialect, columns[name].name) for name in self.order)
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self.values_group = f"({', '.join([marker] * len(self.order))})"
        self._multi_row_sql: dict[int, str] = {}
        self.marker = marker

    def multi_row_sql(self, count: int) -> str:
        """One INSERT of `count` rows with positional markers."""
        sql = self._multi_row_sql.get(count)
        if sql is None:
            # Names come from our table definitions and values are bound: nothing from input.
            sql = (
                f"INSERT INTO {self.table_name} ({self.column_list}) VALUES "  # noqa: S608
                f"{', '.join([self.values_group] * count)}{self.conflict_clause}"
            )
            if len(self._multi_row_sql) < 512:  # batch sizes repeat; bound the cache anyway
                self._multi_row_sql[count] = sql
        return sql

    def flat_parameters(self, rows: Sequence[Row]) -> list[Any]:
        """Every row's values in column order, converted for the driver. A value object is
        converted once per call: a batch's rows share most of theirs (one shop, one time),
        and converting was most of the cost of a small batch."""
        flat: list[Any] = []
        converted: dict[tuple[int, int], Any] = {}
        for row in rows:
            for index, (name, process) in enumerate(self.processors):
                value = row.get(name)
                if process is None:
                    flat.append(value)
                    continue
                key = (index, id(value))  # the rows keep the values alive: ids stay unique
                if key not in converted:
                    converted[key] = process(value)
                flat.append(converted[key])
        return flat

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


def _quoted(dialect: sa.Dialect, name: str) -> str:
    return dialect.identifier_preparer.quote(name)


def _compiled(
    dialect: sa.Dialect, table: sa.Table, ignore_conflicts_on: tuple[str, ...]
) -> _CompiledInsert:
    key = (table.name, dialect.name, ignore_conflicts_on)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = _CompiledInsert(table, dialect, ignore_conflicts_on)
    return compiled


class StatementRunner(Protocol):
    """Runs one statement as a transaction of its own (see database.StatementWriter)."""

    dialect: sa.Dialect

    def execute(self, sql: str, parameters: Sequence[Any]) -> int: ...

    def fetch(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]: ...


def insert_new(
    runner: StatementRunner,
    table: sa.Table,
    rows: Sequence[Row],
    *,
    unique_on: tuple[str, ...],
    key: str,
) -> set[Any]:
    """INSERT the rows that do not clash with a stored row on `unique_on`, in one statement;
    the `key` values of those really inserted. `key` must be new for every row (a fresh id):
    a stored row with one of them can only be this statement's.

    One statement instead of a look-up then an insert: for the webhook inbox, that look-up
    cost more than the write it guarded; and one statement needs no BEGIN or COMMIT. No
    RETURNING either: SQLite hands rows back one step at a time, and each step gives up the
    interpreter lock and queues to take it back. The row count says whether every row went
    in; only when some clashed does a second statement find which."""
    if not rows:
        return set()
    compiled = _compiled(runner.dialect, table, unique_on)
    parameters = compiled.flat_parameters(rows)
    inserted = runner.execute(compiled.multi_row_sql(len(rows)), parameters)
    if inserted == len(rows):
        return {row[key] for row in rows}
    if inserted == 0:
        return set()
    width = len(compiled.order)
    position = compiled.order.index(key)
    as_sent = {parameters[i * width + position]: row[key] for i, row in enumerate(rows)}
    found = runner.fetch(
        f"SELECT {_quoted(runner.dialect, table.c[key].name)} "  # noqa: S608 (names are ours)
        f"FROM {compiled.table_name} "
        f"WHERE {_quoted(runner.dialect, table.c[key].name)} "
        f"IN ({', '.join([compiled.marker] * len(as_sent))})",
        list(as_sent),
    )
    # The driver gives the key back as it was bound (a hex string on SQLite, a UUID on
    # PostgreSQL): map it back to the caller's value.
    return {as_sent[value] for (value,) in found}


def bulk_insert(
    connection: sa.Connection,
    table: sa.Table,
    rows: Sequence[Row],
    *,
    ignore_conflicts_on: tuple[str, ...] = (),
) -> None:
    """INSERT every row (a column a row leaves out is NULL), skipping rows that clash on
    `ignore_conflicts_on`."""
    compiled = _compiled(connection.dialect, table, ignore_conflicts_on)
    with _raw_cursor(connection, compiled.sql) as cursor:
        cursor.executemany(compiled.sql, compiled.parameters(rows))


@contextlib.contextmanager
def _raw_cursor(connection: sa.Connection, sql: str) -> Iterator[Any]:
    if not connection.in_transaction():
        # The raw cursor would bypass autobegin (and on SQLite run in autocommit mode).
        connection.begin()
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except connection.dialect.loaded_dbapi.Error as exc:
        # Surface driver errors as SQLAlchemy's, as connection.execute would.
        raise sa.exc.DBAPIError.instance(
            sql, None, exc, connection.dialect.loaded_dbapi.Error
        ) from exc
    finally:
        cursor.close()
