"""The job queue: Huey, on SQLite by default and on Redis at scale, chosen by URL."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse
from uuid import UUID

from huey import Huey, RedisHuey, crontab
from huey.consumer import Consumer
from huey.exceptions import TaskLockedException
from huey.storage import SqliteStorage

from patronkit.sync.engine import SyncEngine
from patronkit.sync.importer import sync_shop

log = logging.getLogger(__name__)

QUEUE_NAME = "patronkit"


class _QueueStorage(SqliteStorage):  # type: ignore[misc]  # huey ships no type hints
    """Huey's SQLite storage with synchronous=NORMAL: in WAL mode that survives a crashed
    process without an fsync per enqueue (Huey offers only FULL or OFF). A power cut may
    lose the last jobs, never corrupt the file; the inbox and outbox tables are the durable
    record, and the sweeper hands out whatever the queue lost."""

    def _create_connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = super()._create_connection()
        connection.execute("pragma synchronous=1")
        return connection


def make_huey(queue_url: str, *, immediate: bool = False) -> Huey:
    """`sqlite:///path/queue.db` or `redis://host:port/db`."""
    parsed = urlparse(queue_url)
    if parsed.scheme == "sqlite":
        path = Path(queue_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return Huey(
            QUEUE_NAME, storage_class=_QueueStorage, filename=str(path), immediate=immediate
        )
    if parsed.scheme in {"redis", "rediss"}:
        return RedisHuey(QUEUE_NAME, url=queue_url, immediate=immediate)
    raise ValueError(f"unsupported queue URL scheme {parsed.scheme!r} (use sqlite or redis)")


class HueyDispatcher:
    """Hands sync jobs to Huey workers. `bind` registers the tasks; producers and consumers
    must both bind so that task names resolve on either side."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey

    def bind(
        self,
        engine: SyncEngine,
        *,
        sweep_every_minutes: int = 1,
        reconcile_every_minutes: int = 15,
    ) -> None:
        # Unexpected errors (database briefly down) are retried by Huey; anything that outlives
        # those retries is still pending in its table, where the sweeper finds it.
        def apply_inbox(row_id: str) -> None:
            engine.run_apply(UUID(row_id))

        def apply_inbox_batch(row_ids: list[str]) -> None:
            # One job for the deliveries one group commit stored; each still gets its own
            # transaction, and one that raises leaves the rest applied (the sweeper retries it).
            failed = None
            for row_id in row_ids:
                try:
                    engine.run_apply(UUID(row_id))
                except Exception as exc:
                    failed = exc
            if failed is not None:
                raise failed

        def push(row_id: str) -> None:
            engine.run_push(UUID(row_id))

        def sweep() -> None:
            engine.sweep()

        def reconcile_shop(merchant_id: str, shop_id: str) -> None:
            # One run per shop at a time: a slow store must not pile up overlapping reads.
            try:
                with self.huey.lock_task(f"reconcile-{shop_id}"):
                    sync_shop(engine, UUID(merchant_id), UUID(shop_id))
            except TaskLockedException:
                log.info("reconcile of shop %s still running; skipped", shop_id)

        def reconcile_all() -> None:
            with engine.unit_of_work(read_only=True) as uow:
                shops = uow.merchants.active_shops()
            for shop in shops:
                if shop.platform in engine.gateways:
                    self._reconcile(str(shop.merchant_id), str(shop.id))

        self._apply = self.huey.task(name="sync.apply_inbox", retries=3, retry_delay=2)(apply_inbox)
        self._apply_batch = self.huey.task(name="sync.apply_inbox_batch", retries=3, retry_delay=2)(
            apply_inbox_batch
        )
        self._push = self.huey.task(name="sync.push", retries=3, retry_delay=2)(push)
        self._reconcile = self.huey.task(name="sync.reconcile_shop")(reconcile_shop)
        every = crontab(minute=f"*/{sweep_every_minutes}")
        self.huey.periodic_task(every, name="sync.sweep")(sweep)
        # Heals what webhooks missed (Shopify retries for hours; some platforms send none).
        schedule = crontab(minute=f"*/{reconcile_every_minutes}")
        self.huey.periodic_task(schedule, name="sync.reconcile_all")(reconcile_all)

    def apply_inbox(self, row_id: UUID) -> None:
        self._apply(str(row_id))

    def apply_inbox_batch(self, row_ids: Sequence[UUID]) -> None:
        self._apply_batch([str(row_id) for row_id in row_ids])

    def push(self, row_id: UUID, at: datetime | None = None) -> None:
        if at is None:
            self._push(str(row_id))
        else:
            self._push.schedule((str(row_id),), eta=at)


# Idle workers poll the queue with a growing delay; Huey's default ceiling is 10 s, too slow
# for a withdrawal that must reach every store within seconds.
MAX_IDLE_POLL_SECONDS = 0.25


def make_consumer(huey: Huey, *, workers: int, periodic: bool = True) -> Consumer:
    return huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=periodic,
        initial_delay=0.02,
        max_delay=MAX_IDLE_POLL_SECONDS,
    )


class BackgroundWorkers:
    """Huey worker threads inside another program (tests, the demo): started without taking
    over the process's signal handlers, stopped gracefully."""

    def __init__(self, huey: Huey, *, workers: int = 2, periodic: bool = False) -> None:
        self.consumer = make_consumer(huey, workers=workers, periodic=periodic)
        # Signal handlers can only be set from the main thread, and belong to the host program.
        self.consumer._set_signal_handlers = lambda: None

    def start(self) -> None:
        self.consumer.start()

    def stop(self) -> None:
        self.consumer.stop(graceful=True)
