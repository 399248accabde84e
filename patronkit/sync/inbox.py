"""The inbox: every accepted delivery, stored before it is acknowledged, applied exactly once.

Accepting is one INSERT that does nothing when the delivery is already there, so redeliveries
cost one indexed lookup. Applying runs in one transaction that also writes the outbox rows and
marks the delivery applied: a worker killed half way leaves the row pending, and the sweeper
hands it out again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import sqlalchemy as sa

from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.domain.values import time_ordered_uuid
from patronkit.core.store.bulk import StatementRunner, insert_new
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.core.storefront import StorefrontGateway
from patronkit.sync.apply import apply_changes
from patronkit.sync.outbox import queue_consent_pushes
from patronkit.sync.tables import inbox

log = logging.getLogger(__name__)

MAX_ERROR = 500


class Status(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"  # the payload could not be understood; kept for a person to look at


@dataclass(frozen=True)
class Delivery:
    shop: ShopConnection
    delivery_key: str
    topic: str
    body: bytes
    triggered_at: datetime | None = None


def accept_many(
    writer: StatementRunner, deliveries: Sequence[Delivery], now: datetime
) -> list[UUID | None]:
    """Store many verified deliveries at once; for each, its new id or None if it was
    already there (or is repeated earlier in the same batch)."""
    ids: list[UUID | None] = []
    rows = []
    seen: set[tuple[UUID, str]] = set()
    for delivery in deliveries:
        key = (delivery.shop.id, delivery.delivery_key[:255])
        if key in seen:
            ids.append(None)
            continue
        seen.add(key)
        row_id = time_ordered_uuid()
        rows.append(_row(row_id, delivery, now))
        ids.append(row_id)
    # The unique (shop, delivery key) decides, also against another process storing the
    # same delivery at the same moment: only the rows really inserted come back.
    stored = insert_new(writer, inbox, rows, unique_on=("shop_id", "delivery_key"), key="id")
    if len(stored) == len(rows):
        return ids
    return [row_id if row_id in stored else None for row_id in ids]


def _row(row_id: UUID, delivery: Delivery, now: datetime) -> dict[str, object]:
    return {
        "id": row_id,
        "merchant_id": delivery.shop.merchant_id,
        "shop_id": delivery.shop.id,
        "platform": delivery.shop.platform,
        "delivery_key": delivery.delivery_key[:255],
        "topic": delivery.topic[:128],
        "body": delivery.body,
        "received_at": now,
        "triggered_at": delivery.triggered_at,
        "status": Status.PENDING,
        "enqueued_at": now,
        "attempts": 0,
    }


@dataclass(frozen=True)
class Applied:
    status: Status
    pushes: tuple[UUID, ...] = ()


class InboxApplier:
    def __init__(self, engine: sa.Engine, gateways: Mapping[str, StorefrontGateway]) -> None:
        self.engine = engine
        self.gateways = gateways

    def apply(self, row_id: UUID, now: datetime) -> Applied | None:
        """Apply one delivery; None if it is not pending (already applied, or unknown)."""
        with SqlUnitOfWork(self.engine) as uow:
            query = sa.select(inbox).where(inbox.c.id == row_id, inbox.c.status == Status.PENDING)
            # On PostgreSQL two workers handed the same row wait for each other here, and the
            # second then finds it applied. SQLite has one writer at a time anyway.
            row = uow.connection.execute(query.with_for_update()).first()
            if row is None:
                return None
            shop = uow.tenant(row.merchant_id).shops.get(row.shop_id)
            gateway = self.gateways.get(row.platform)
            try:
                if gateway is None:
                    raise ValueError(f"no adapter for platform {row.platform!r}")
                changes = gateway.parse_webhook(row.topic, json.loads(row.body))
            except ValueError as exc:  # includes JSONDecodeError and the adapters' mapping errors
                self._mark(
                    uow.connection, row_id, Status.FAILED, now, attempts=row.attempts, error=exc
                )
                uow.commit()
                log.warning("inbox %s failed: %s", row_id, type(exc).__name__)
                return Applied(Status.FAILED)
            result = apply_changes(uow, shop, changes, now)
            pushes = queue_consent_pushes(
                uow, list(uow.collect_new_events()), result.corrections, now
            )
            self._mark(uow.connection, row_id, Status.APPLIED, now, attempts=row.attempts)
            uow.commit()
            return Applied(Status.APPLIED, tuple(pushes))

    @staticmethod
    def _mark(
        connection: sa.Connection,
        row_id: UUID,
        status: Status,
        now: datetime,
        *,
        attempts: int,
        error: Exception | None = None,
    ) -> None:
        # The error's class and message only: messages from our parsers name fields, not values.
        text = f"{type(error).__name__}: {error}"[:MAX_ERROR] if error else None
        values: dict[str, object] = {
            "status": status,
            "applied_at": now,
            "attempts": attempts + 1,
            "error": text,
        }
        if status is Status.APPLIED:
            # Once applied the body is no longer needed, and it holds personal data: drop it.
            # Failed rows keep theirs so a person can see what could not be read.
            values["body"] = b""
        connection.execute(inbox.update().where(inbox.c.id == row_id).values(**values))


def stale_pending(
    connection: sa.Connection, now: datetime, grace: timedelta, limit: int = 500
) -> list[UUID]:
    """Pending rows not handed out for `grace`: their job was lost (a killed worker). Marks them
    handed out again, so two sweeps do not double the queue."""
    c = inbox.c
    ids = list(
        connection.scalars(
            sa.select(c.id)
            .where(c.status == Status.PENDING, c.enqueued_at <= now - grace)
            .order_by(c.received_at)
            .limit(limit)
        )
    )
    if ids:
        connection.execute(inbox.update().where(c.id.in_(ids)).values(enqueued_at=now))
    return ids
