"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine with the settings each backend needs to behave like the other."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT}, **kwargs)
        writer = _WriterLock()
        _WRITER_LOCKS[engine] = writer
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", writer.begin)
        sa.event.listen(engine, "commit", writer.end)
        sa.event.listen(engine, "rollback", writer.end)
        sa.event.listen(engine.pool, "checkin", writer.checkin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the web process read while the worker writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Once checkpointed, the WAL is rewound and cut back to this size: left at its peak, its
    # size would no longer tell `checkpoint_if_large` whether anything is left to copy.
    cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
    cursor.close()


READ_ONLY = "patronkit_read_only"
BUSY_TIMEOUT = 30.0
_HOLDS_LOCK = "patronkit_holds_write_lock"


class _WriterLock:
    """One writer at a time per process, queued on a Python lock.

    SQLite allows one writer; a thread that finds the database locked sleeps in growing steps
    inside SQLite's busy handler, so under load some threads starve while others re-take the
    lock. Waiting here instead wakes the next writer the moment the last one finishes.
    Other processes (a separate worker) still meet at SQLite's own lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self._lock.acquire(timeout=BUSY_TIMEOUT):
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, TimeoutError("writer queue"))

    def release(self) -> None:
        self._lock.release()

    def begin(self, connection: sa.Connection) -> None:
        # Take the write lock at BEGIN: a deferred transaction that reads and then writes fails
        # with "database is locked" when another process wrote in between, and that is not
        # retried. Read-only work (pages, health checks) reads its WAL snapshot concurrently.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        self.acquire()
        connection.info[_HOLDS_LOCK] = True
        try:
            # Straight to the driver: SQLAlchemy's statement machinery cost more than the BEGIN.
            connection.connection.dbapi_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]
        except BaseException:
            self.end(connection)
            raise

    def end(self, connection: sa.Connection) -> None:
        if connection.info.pop(_HOLDS_LOCK, False):
            self._lock.release()

    def checkin(self, _dbapi_connection: Any, record: Any) -> None:
        # A connection returned to the pool without commit or rollback (an error path).
        if record.info.pop(_HOLDS_LOCK, False):
            self._lock.release()


_WRITER_LOCKS: weakref.WeakKeyDictionary[sa.Engine, _WriterLock] = weakref.WeakKeyDictionary()


class StatementWriter:
    """A connection of its own, in autocommit mode, for a hot write that is one statement.

    The statement is its own transaction: one round trip (and on SQLite one hand-back of the
    interpreter lock, one write-lock hold) instead of BEGIN, the statement and COMMIT. On
    SQLite it still queues with this engine's other writers, and its commits do not
    checkpoint the WAL: call `checkpoint_if_large` from a background thread.
    Not thread-safe: one caller at a time (the inbox's group-commit leader).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._queue = _WRITER_LOCKS.get(engine)
        self._raw: Any = None

    def execute(self, sql: str, parameters: Sequence[Any]) -> int:
        """Run one statement as a transaction of its own; how many rows it changed."""
        count: int = self._run(sql, parameters, lambda cursor: cursor.rowcount)
        return count

    def fetch(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run one statement as a transaction of its own; the rows it returns."""
        rows: list[tuple[Any, ...]] = self._run(
            sql, parameters, lambda cursor: list(cursor.fetchall())
        )
        return rows

    def _run(self, sql: str, parameters: Sequence[Any], result: Callable[[Any], Any]) -> Any:
        raw = self._connection()
        if self._queue is not None:
            self._queue.acquire()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(sql, parameters)
                return result(cursor)
            finally:
                cursor.close()
        except self.dialect.loaded_dbapi.Error as exc:
            self.close()  # a broken connection is not reused
            raise sa.exc.DBAPIError.instance(
                sql, None, exc, self.dialect.loaded_dbapi.Error
            ) from exc
        finally:
            if self._queue is not None:
                self._queue.release()

    def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.close()

    def _connection(self) -> Any:
        if self._raw is None:
            raw = self.engine.raw_connection()
            driver: Any = raw.driver_connection
            raw.detach()  # ours alone: never handed back to the pool in autocommit mode
            if self.dialect.name == "sqlite":
                # isolation_level is None already (see _sqlite_pragmas): no BEGIN means each
                # statement commits by itself.
                driver.execute("PRAGMA wal_autocheckpoint=0")
            else:
                driver.autocommit = True
            self._raw = driver
        return self._raw


# -- WAL checkpoints off the request path ----------------------------------------------------

WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024  # SQLite's own automatic threshold is ~1000 pages
WAL_SIZE_LIMIT_BYTES = 1024 * 1024
# Under steady writes the WAL is rewound only now and then, so its size stays past the
# threshold for a while: without a pause every call would checkpoint (two fsyncs each).
CHECKPOINT_MIN_INTERVAL_SECONDS = 1.0
_checkpointing = threading.Lock()
_last_checkpoint: dict[str, float] = {}


def checkpoint_if_large(
    engine: sa.Engine,
    max_wal_bytes: int = WAL_CHECKPOINT_BYTES,
    min_interval: float = CHECKPOINT_MIN_INTERVAL_SECONDS,
) -> bool:
    """Checkpoint a file SQLite database's WAL if it grew past `max_wal_bytes` and the last
    checkpoint is `min_interval` old, without blocking writers (PASSIVE). True if a
    checkpoint ran. No-op on other databases."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        return False
    if time.monotonic() - _last_checkpoint.get(path, -min_interval) < min_interval:
        return False
    try:
        if os.path.getsize(f"{path}-wal") < max_wal_bytes:
            return False
    except OSError:  # no WAL file yet
        return False
    if not _checkpointing.acquire(blocking=False):
        return False  # another thread is at it
    try:
        with engine.connect() as connection:
            # On the driver directly: through SQLAlchemy this would BEGIN a write transaction.
            connection.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
        _last_checkpoint[path] = time.monotonic()
        return True
    finally:
        _checkpointing.release()
