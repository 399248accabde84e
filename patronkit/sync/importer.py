"""Initial import and reconcile: read a store's customers and orders and apply them to core.

Reconcile heals what webhooks missed. It reads everything changed since a stored cursor,
minus an overlap window (webhooks and API reads can lag, and timestamps have one-second
precision), and applies it through the same code as webhooks: re-reading is harmless because
applying a state core already holds changes nothing.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from queue import Queue
from typing import TypeVar
from uuid import UUID

from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.storefront import RemoteCustomer, RemoteOrder, ShopAccess
from patronkit.sync.apply import ApplyResult, apply_customers, apply_order
from patronkit.sync.engine import SyncEngine
from patronkit.sync.outbox import queue_consent_pushes

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
# Batches after which the database re-plans (then every 20th): early, while tables grow fast.
_REPLAN_AFTER = frozenset({1, 3, 8})
BATCH = 500
CUSTOMERS, ORDERS = "customers", "orders"

T = TypeVar("T")
Progress = Callable[[int], object]


@dataclass
class ImportStats:
    customers: int = 0
    orders: int = 0
    dropped_fields: int = 0
    pushes: int = 0


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _prefetched(batches: Iterator[list[T]], depth: int = 2) -> Iterator[list[T]]:
    """Read the next batches in a thread while the current one is applied: reading (network,
    JSON, mapping) and writing (the database driver releases the GIL) then overlap."""
    done = object()
    queue: Queue[object] = Queue(maxsize=depth)

    def read() -> None:
        try:
            for batch in batches:
                queue.put(batch)
            queue.put(done)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            queue.put(exc)

    threading.Thread(target=read, name="import-reader", daemon=True).start()
    while (item := queue.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item  # type: ignore[misc]


def _cursor(shop: ShopConnection, stream: str) -> datetime | None:
    value = shop.cursors.get(stream)
    return datetime.fromisoformat(value) - OVERLAP if value else None


def sync_shop(
    engine: SyncEngine,
    merchant_id: UUID,
    shop_id: UUID,
    *,
    full: bool = False,
    progress: Progress | None = None,
    include_orders: bool = True,
) -> ImportStats:
    """Import (full=True, or no cursor yet) or reconcile one shop, committing every batch.

    The cursor moves to the time this run started only after every record was applied, so a
    run that dies half way is simply repeated.
    """
    started = engine.clock()
    with engine.unit_of_work(read_only=True) as uow:
        shop = uow.tenant(merchant_id).shops.get(shop_id)
        access = ShopAccess(shop.domain, shop.api_url, shop.credentials(engine.sealer))
    gateway = engine.gateways[shop.platform]
    stats = ImportStats()

    since = None if full else _cursor(shop, CUSTOMERS)
    batches = _prefetched(_batches(gateway.customers_updated_since(access, since), BATCH))
    for number, batch in enumerate(batches, start=1):
        _apply_batch(engine, merchant_id, shop_id, stats, customers=batch)
        if number in _REPLAN_AFTER or number % 20 == 0:
            with engine.unit_of_work() as uow:
                uow.refresh_statistics()
                uow.commit()
        if progress:
            progress(len(batch))
    if include_orders:
        since = None if full else _cursor(shop, ORDERS)
        for order_batch in _batches(gateway.orders_updated_since(access, since), BATCH):
            _apply_batch(engine, merchant_id, shop_id, stats, orders=order_batch)

    with engine.unit_of_work() as uow:
        current = uow.tenant(merchant_id).shops.get(shop_id)
        current.advance_cursor(CUSTOMERS, started.isoformat())
        if include_orders:
            current.advance_cursor(ORDERS, started.isoformat())
        uow.commit()
    log.info(
        "synced shop %s: %d customers, %d orders, %d pushes queued",
        shop_id,
        stats.customers,
        stats.orders,
        stats.pushes,
    )
    return stats


def _apply_batch(
    engine: SyncEngine,
    merchant_id: UUID,
    shop_id: UUID,
    stats: ImportStats,
    *,
    customers: Sequence[RemoteCustomer] = (),
    orders: Sequence[RemoteOrder] = (),
) -> None:
    result = ApplyResult()
    with engine.unit_of_work() as uow:
        shop = uow.tenant(merchant_id).shops.get(shop_id)
        if customers:
            apply_customers(uow, shop, customers, result)
        for order in orders:
            apply_order(uow, shop, order, result)
        events = list(uow.collect_new_events())
        pushes = queue_consent_pushes(uow, events, result.corrections, engine.clock())
        uow.commit()
    engine.dispatch_pushes(pushes)
    stats.customers += result.customers_touched
    stats.orders += result.orders_touched
    stats.dropped_fields += result.dropped_fields
    stats.pushes += len(pushes)
