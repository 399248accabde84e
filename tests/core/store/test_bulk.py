"""Bulk writes straight through the driver: the rows land as SQLAlchemy would write them,
`insert_new` tells exactly which rows were new, and a StatementWriter's statements commit by
themselves without checkpointing the WAL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.domain.values import time_ordered_uuid
from patronkit.core.store.bulk import insert_new
from patronkit.core.store.database import StatementWriter
from patronkit.sync.tables import inbox


def _row(shop: ShopConnection, key: str) -> dict[str, object]:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    return {
        "id": time_ordered_uuid(),
        "merchant_id": shop.merchant_id,
        "shop_id": shop.id,
        "platform": shop.platform,
        "delivery_key": key,
        "topic": "customers/update",
        "body": b'{"id": 1}',
        "received_at": now,
        "triggered_at": None,
        "status": "pending",
        "enqueued_at": now,
        "attempts": 0,
    }


def test_insert_new_returns_only_the_rows_it_inserted(
    clean_db: sa.Engine, shop: ShopConnection
) -> None:
    writer = StatementWriter(clean_db)
    unique = ("shop_id", "delivery_key")
    try:
        first = [_row(shop, "a"), _row(shop, "b")]
        assert insert_new(writer, inbox, first, unique_on=unique, key="id") == {
            row["id"] for row in first
        }
        again = [_row(shop, "b"), _row(shop, "c")]  # b is a redelivery
        stored = insert_new(writer, inbox, again, unique_on=unique, key="id")
        assert insert_new(writer, inbox, again[:1], unique_on=unique, key="id") == set()
    finally:
        writer.close()
    assert stored == {again[1]["id"]}
    # Committed without any BEGIN/COMMIT of ours: another connection sees the rows.
    with clean_db.connect() as connection:
        rows = connection.execute(sa.select(inbox).order_by(inbox.c.delivery_key)).all()
    assert [row.delivery_key for row in rows] == ["a", "b", "c"]
    assert rows[1].id == first[1]["id"]  # the first b stays
    assert rows[0].received_at == first[0]["received_at"]  # our column types round-trip


def test_insert_new_of_nothing_writes_nothing(clean_db: sa.Engine) -> None:
    writer = StatementWriter(clean_db)
    assert insert_new(writer, inbox, [], unique_on=("id",), key="id") == set()


def test_a_statement_writer_leaves_checkpoints_to_checkpoint_if_large(
    tmp_path: object,
) -> None:
    import os
    from pathlib import Path

    from patronkit.core.store.database import (
        WAL_SIZE_LIMIT_BYTES,
        checkpoint_if_large,
        make_engine,
    )

    path = Path(str(tmp_path)) / "wal.db"
    engine = make_engine(f"sqlite:///{path}")
    writer = StatementWriter(engine)
    try:
        writer.fetch("CREATE TABLE t (b BLOB)", ())
        for _ in range(400):  # ~1.6 MB through the WAL, past SQLite's own threshold
            writer.fetch("INSERT INTO t VALUES (randomblob(4000))", ())
        wal = Path(f"{path}-wal")
        size_before = wal.stat().st_size
        assert size_before > 1_500_000  # nothing checkpointed on commit
        assert not checkpoint_if_large(engine, max_wal_bytes=size_before * 2)
        assert checkpoint_if_large(engine, max_wal_bytes=1)
        assert not checkpoint_if_large(engine, max_wal_bytes=1)  # too soon after the last
        # The checkpointed log is rewound by the next write and cut back to its limit, so
        # that its size says again how much is left to checkpoint.
        writer.fetch("INSERT INTO t VALUES (randomblob(4000))", ())
        assert wal.stat().st_size <= WAL_SIZE_LIMIT_BYTES < size_before
        assert not checkpoint_if_large(
            engine, max_wal_bytes=WAL_SIZE_LIMIT_BYTES + 1, min_interval=0
        )
        assert os.path.getsize(path) > 1_000_000  # the pages are in the database file
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 401
    finally:
        writer.close()
        engine.dispose()


def test_shared_values_are_converted_once_and_alike(
    clean_db: sa.Engine, shop: ShopConnection
) -> None:
    from patronkit.core.store.bulk import _compiled

    compiled = _compiled(clean_db.dialect, inbox, ("shop_id", "delivery_key"))
    rows = [_row(shop, "a"), _row(shop, "b"), {**_row(shop, "c"), "received_at": None}]
    assert rows[0]["received_at"] is not rows[1]["received_at"]  # equal values, two objects
    rows[1]["enqueued_at"] = rows[0]["enqueued_at"]  # the same object
    expected = [
        process(row.get(name)) if process else row.get(name)
        for row in rows
        for name, process in compiled.processors
    ]

    def comparable(value: object) -> object:
        # Binary values come wrapped (a memoryview for SQLite, psycopg's Binary, which does
        # not compare by content): compare what they hold.
        return bytes(value) if isinstance(value, memoryview) else repr(value)

    assert list(map(comparable, compiled.flat_parameters(rows))) == list(map(comparable, expected))
