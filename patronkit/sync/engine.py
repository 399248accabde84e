"""The sync engine: what the web layer and the job queue call.

It knows nothing of the queue's technology: a Dispatcher hands jobs to workers (Huey in
production, see queue.py; a direct call in unit tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import sqlalchemy as sa

from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.consent import ConsentEvent
from patronkit.core.domain.values import utcnow
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.core.storefront import StorefrontGateway
from patronkit.sync import inbox, outbox

log = logging.getLogger(__name__)

# A pending inbox row untouched this long lost its job (killed worker) and is handed out again.
INBOX_GRACE = timedelta(seconds=30)


class Dispatcher(Protocol):
    def apply_inbox(self, row_id: UUID) -> None: ...

    def push(self, row_id: UUID, at: datetime | None = None) -> None: ...


class SyncEngine:
    def __init__(
        self,
        engine: sa.Engine,
        sealer: FernetSealer,
        gateways: Mapping[str, StorefrontGateway],
        dispatcher: Dispatcher,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.sealer = sealer
        self.gateways = gateways
        self.dispatcher = dispatcher
        self.clock = clock
        self.applier = inbox.InboxApplier(engine, gateways)
        self.pusher = outbox.Pusher(engine, sealer, gateways)

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)

    # -- inbound -------------------------------------------------------------------------------

    def receive(self, delivery: inbox.Delivery) -> bool:
        """Store a verified delivery and queue its application. False for a redelivery."""
        with self.unit_of_work() as uow:
            row_id = inbox.accept(uow.connection, delivery, self.clock())
            uow.commit()
        if row_id is None:
            return False
        # If this enqueue is lost (crash right here), the sweeper finds the pending row.
        self.dispatcher.apply_inbox(row_id)
        return True

    def run_apply(self, row_id: UUID) -> inbox.Applied | None:
        applied = self.applier.apply(row_id, self.clock())
        if applied is not None:
            for push_id in applied.pushes:
                self.dispatcher.push(push_id)
        return applied

    # -- outbound ------------------------------------------------------------------------------

    def change_consent(self, event: ConsentEvent) -> bool:
        """Record a consent decided in patronkit (widget, admin, support) and queue a push to
        every store the person is linked in. True if it changed what the consent means."""
        with self.unit_of_work() as uow:
            customer = uow.tenant(event.merchant_id).customers.get(event.customer_id)
            changed = customer.record_consent(event)
            pushes = outbox.queue_consent_pushes(
                uow, list(uow.collect_new_events()), (), self.clock()
            )
            uow.commit()
        self.dispatch_pushes(pushes)
        return changed

    def dispatch_pushes(self, push_ids: list[UUID]) -> None:
        for push_id in push_ids:
            self.dispatcher.push(push_id)

    def run_push(self, row_id: UUID) -> outbox.PushResult:
        result = self.pusher.push(row_id, self.clock())
        if result.retry_at is not None:
            self.dispatcher.push(row_id, at=result.retry_at)
        return result

    # -- healing -------------------------------------------------------------------------------

    def sweep(self) -> tuple[int, int]:
        """Hand out again what was lost: stale pending deliveries and due pushes."""
        now = self.clock()
        with self.unit_of_work() as uow:
            stale = inbox.stale_pending(uow.connection, now, INBOX_GRACE)
            due = outbox.due_rows(uow.connection, now)
            uow.commit()
        for row_id in stale:
            self.dispatcher.apply_inbox(row_id)
        for row_id in due:
            self.dispatcher.push(row_id)
        if stale or due:
            log.info("sweep re-dispatched %d deliveries and %d pushes", len(stale), len(due))
        return len(stale), len(due)


class InlineDispatcher:
    """Runs jobs at once in the caller's thread: for tests and one-off commands."""

    def __init__(self) -> None:
        self.engine: SyncEngine | None = None
        self.deferred: list[tuple[UUID, datetime]] = []

    def apply_inbox(self, row_id: UUID) -> None:
        assert self.engine is not None
        self.engine.run_apply(row_id)

    def push(self, row_id: UUID, at: datetime | None = None) -> None:
        assert self.engine is not None
        if at is None:
            self.engine.run_push(row_id)
        else:
            self.deferred.append((row_id, at))
