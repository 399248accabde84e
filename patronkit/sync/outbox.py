"""The outbox: pushes to stores, written in the transaction that changed core.

A row names what to push (shop, customer, channel), not the value: the push sends core's
consent as it is when it runs. Pushes are therefore idempotent and can run in any order, and
a newer change makes an older pending row redundant rather than wrong.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.consent import ConsentKey
from patronkit.core.domain.customer import Customer
from patronkit.core.domain.events import ConsentChanged, DomainEvent
from patronkit.core.domain.merchant import ShopConnection
from patronkit.core.domain.values import time_ordered_uuid
from patronkit.core.ports import UnitOfWork
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.core.storefront import (
    ConsentPush,
    ShopAccess,
    StoreAccessRevoked,
    StorefrontGateway,
    StoreUnavailable,
)
from patronkit.sync.tables import outbox

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BASE_DELAY = timedelta(seconds=2)
MAX_DELAY = timedelta(minutes=30)


class Status(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"  # nothing to do: store gone, customer not in that store, no consent
    DEAD = "dead"  # gave up; needs a person (credentials revoked, or retries exhausted)


def queue_consent_pushes(
    uow: SqlUnitOfWork,
    events: Iterable[DomainEvent],
    corrections: Iterable[tuple[Customer, ConsentKey, UUID]],
    now: datetime,
) -> list[UUID]:
    """Outbox rows for every store that must hear of a consent change; returns their ids.

    A change is pushed to every active store the customer is linked in, except the store it
    came from (which already holds it). A correction goes back to the store that reported
    something core had already superseded.
    """
    wanted: dict[tuple[UUID, UUID, str, str], UUID] = {}
    shops_of: dict[UUID, list[ShopConnection]] = {}
    for event in events:
        if not isinstance(event, ConsentChanged):
            continue
        tenant = uow.tenant(event.merchant_id)
        if event.merchant_id not in shops_of:
            shops_of[event.merchant_id] = [s for s in tenant.shops.list() if s.active]
        targets = [s for s in shops_of[event.merchant_id] if s.id != event.source.shop_id]
        if not targets:
            continue  # the only store is the one that told us
        customer = tenant.customers.get(event.customer_id)
        for shop in targets:
            if customer.link_for(shop.id):
                wanted[(shop.id, customer.id, event.channel.value, event.purpose)] = (
                    event.merchant_id
                )
    for customer, consent_key, shop_id in corrections:
        key = (shop_id, customer.id, consent_key.channel.value, consent_key.purpose)
        wanted[key] = customer.merchant_id
    ids = []
    for (shop_id, customer_id, channel, purpose), merchant_id in wanted.items():
        pending = _pending_row(uow.connection, shop_id, customer_id, channel, purpose)
        if pending is not None:
            # That row will send core's newest state, unless its push has already read an
            # older one: the new generation tells that push to go again.
            uow.connection.execute(
                outbox.update()
                .where(outbox.c.id == pending)
                .values(generation=outbox.c.generation + 1)
            )
            continue
        row_id = time_ordered_uuid()
        uow.connection.execute(
            outbox.insert().values(
                id=row_id,
                merchant_id=merchant_id,
                shop_id=shop_id,
                customer_id=customer_id,
                kind="consent",
                channel=channel,
                purpose=purpose,
                status=Status.PENDING,
                attempts=0,
                generation=0,
                created_at=now,
                next_attempt_at=now,
                enqueued_at=now,
            )
        )
        ids.append(row_id)
    return ids


def _pending_row(
    connection: sa.Connection, shop_id: UUID, customer_id: UUID, channel: str, purpose: str
) -> UUID | None:
    c = outbox.c
    query = sa.select(c.id).where(
        c.shop_id == shop_id,
        c.customer_id == customer_id,
        c.channel == channel,
        c.purpose == purpose,
        c.status == Status.PENDING,
    )
    found: UUID | None = connection.execute(query.limit(1)).scalar()
    return found


@dataclass(frozen=True)
class PushResult:
    status: Status
    retry_at: datetime | None = None


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(MAX_DELAY, BASE_DELAY * (2 ** min(attempts, 20)))
    return timedelta(seconds=rng.uniform(BASE_DELAY.total_seconds() / 2, ceiling.total_seconds()))


class Pusher:
    """Sends one outbox row. No database transaction is open during the store call."""

    def __init__(
        self,
        engine: sa.Engine,
        sealer: FernetSealer,
        gateways: Mapping[str, StorefrontGateway],
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.sealer = sealer
        self.gateways = gateways
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy

    def push(self, row_id: UUID, now: datetime) -> PushResult:
        with SqlUnitOfWork(self.engine, read_only=True) as uow:
            row = uow.connection.execute(sa.select(outbox).where(outbox.c.id == row_id)).first()
            if row is None or row.status != Status.PENDING:
                return PushResult(Status(row.status) if row else Status.SKIPPED)
            prepared = self._prepare(uow, row)
        if isinstance(prepared, str):
            return self._finish(row_id, row.generation, Status.SKIPPED, now, outcome=prepared)
        gateway, access, push = prepared
        try:
            outcome = gateway.push_consent(access, push)
        except StoreAccessRevoked as exc:
            error = f"access revoked: {type(exc).__name__}"
            return self._finish(row_id, row.generation, Status.DEAD, now, error=error)
        except (StoreUnavailable, OSError) as exc:
            return self._retry_later(row_id, row.attempts + 1, now, type(exc).__name__)
        return self._finish(row_id, row.generation, Status.SENT, now, outcome=outcome.value)

    def _prepare(
        self, uow: UnitOfWork, row: sa.Row[Any]
    ) -> tuple[StorefrontGateway, ShopAccess, ConsentPush] | str:
        tenant = uow.tenant(row.merchant_id)
        shop = tenant.shops.find(row.shop_id)
        if shop is None or not shop.active:
            return "shop_inactive"
        gateway = self.gateways.get(shop.platform)
        if gateway is None:
            return "platform_unavailable"
        customer = tenant.customers.find(row.customer_id)
        link = customer.link_for(shop.id) if customer else None
        status = customer.consent(row.channel, row.purpose) if customer else None
        if customer is None or link is None or status is None or customer.redacted:
            return "nothing_to_push"
        access = ShopAccess(shop.domain, shop.api_url, shop.credentials(self.sealer))
        return (
            gateway,
            access,
            ConsentPush(
                customer_remote_id=link.remote_id,
                channel=status.channel,
                state=status.state,
                opt_in_level=status.opt_in_level,
                occurred_at=status.occurred_at,
            ),
        )

    def _retry_later(self, row_id: UUID, attempts: int, now: datetime, error: str) -> PushResult:
        if attempts >= MAX_ATTEMPTS:
            with SqlUnitOfWork(self.engine) as uow:
                uow.connection.execute(
                    outbox.update()
                    .where(outbox.c.id == row_id, outbox.c.status == Status.PENDING)
                    .values(
                        status=Status.DEAD,
                        attempts=attempts,
                        finished_at=now,
                        error=f"gave up after {attempts}: {error}",
                    )
                )
                uow.commit()
            return PushResult(Status.DEAD)
        retry_at = now + backoff(attempts, self.rng)
        with SqlUnitOfWork(self.engine) as uow:
            uow.connection.execute(
                outbox.update()
                .where(outbox.c.id == row_id, outbox.c.status == Status.PENDING)
                .values(attempts=attempts, next_attempt_at=retry_at, enqueued_at=now, error=error)
            )
            uow.commit()
        log.info("push %s deferred (attempt %d): %s", row_id, attempts, error)
        return PushResult(Status.PENDING, retry_at)

    def _finish(
        self,
        row_id: UUID,
        generation: int,
        status: Status,
        now: datetime,
        *,
        outcome: str | None = None,
        error: str | None = None,
    ) -> PushResult:
        """Close the row, unless core changed this consent since the push read it."""
        with SqlUnitOfWork(self.engine) as uow:
            closed = uow.connection.execute(
                outbox.update()
                .where(
                    outbox.c.id == row_id,
                    outbox.c.status == Status.PENDING,
                    outbox.c.generation == generation,
                )
                .values(status=status, finished_at=now, outcome=outcome, error=error)
                .returning(outbox.c.id)
            ).scalar()
            uow.commit()
        if closed is None:
            return PushResult(Status.PENDING, retry_at=now)  # newer state: push again now
        return PushResult(status)


def due_rows(
    connection: sa.Connection, now: datetime, grace: timedelta, limit: int = 500
) -> list[UUID]:
    """Pending rows whose time has come and that no queued job holds (lost jobs, retries
    whose scheduled task vanished). Marks them handed out again."""
    c = outbox.c
    query = (
        sa.select(c.id)
        .where(
            c.status == Status.PENDING,
            c.next_attempt_at <= now,
            sa.or_(c.enqueued_at.is_(None), c.enqueued_at <= now - grace),
        )
        .order_by(c.next_attempt_at)
        .limit(limit)
    )
    ids = list(connection.scalars(query))
    if ids:
        connection.execute(outbox.update().where(c.id.in_(ids)).values(enqueued_at=now))
    return ids
