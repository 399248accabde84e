"""The sync engine: what the web layer and the job queue call.

It knows nothing of the queue's technology: a Dispatcher hands jobs to workers (Huey in
production, see queue.py; a direct call in unit tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from patronkit.core.crypto import FernetSealer
from patronkit.core.domain.consent import ConsentEvent
from patronkit.core.domain.values import utcnow
from patronkit.core.store import database
from patronkit.core.store.unit_of_work import SqlUnitOfWork
from patronkit.core.storefront import StorefrontGateway
from patronkit.sync import inbox, outbox
from patronkit.sync.group_commit import GroupCommitter
from patronkit.sync.handoff import Handoff

log = logging.getLogger(__name__)

# A pending row untouched this long lost its job (killed worker) and is handed out again.
INBOX_GRACE = timedelta(seconds=30)


class Dispatcher(Protocol):
    def apply_inbox(self, row_id: UUID) -> None: ...

    def apply_inbox_batch(self, row_ids: Sequence[UUID]) -> None: ...

    def push(self, row_id: UUID, at: datetime | None = None) -> None: ...


class SyncEngine:
    def __init__(
        self,
        engine: sa.Engine,
        sealer: FernetSealer,
        gateways: Mapping[str, StorefrontGateway],
        dispatcher: Dispatcher,
        clock: Callable[[], datetime] = utcnow,
        *,
        group_commit: bool = True,
    ) -> None:
        """`group_commit=False` stores and dispatches each delivery in the caller's thread, so
        that with an inline dispatcher a delivery is applied when `receive` returns (tests,
        one-off commands)."""
        self.engine = engine
        self.sealer = sealer
        self.gateways = gateways
        self.dispatcher = dispatcher
        self.clock = clock
        self.applier = inbox.InboxApplier(engine, gateways)
        self._inbox_store = database.StatementWriter(engine)
        self._inbox_writer: GroupCommitter[inbox.Delivery, UUID | None] | None = None
        self._handoff: Handoff[UUID] | None = None
        if group_commit:
            self._inbox_writer = GroupCommitter(
                self._accept_batch, name="inbox-writer", after=self._hand_off
            )
            self._handoff = Handoff(self._dispatch_stored, name="inbox-handoff")
        self.pusher = outbox.Pusher(engine, sealer, gateways)

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=read_only)

    # -- inbound -------------------------------------------------------------------------------

    def receive(self, delivery: inbox.Delivery) -> bool:
        """Store a verified delivery and queue its application. False for a redelivery.

        Returns once the delivery is committed (together with whatever other requests
        arrived meanwhile: see group_commit).
        """
        if self._inbox_writer is not None:
            return self._inbox_writer.submit(delivery) is not None
        ids = self._accept_batch([delivery])
        self._dispatch_accepted(ids)
        return ids[0] is not None

    def _accept_batch(self, deliveries: Sequence[inbox.Delivery]) -> list[UUID | None]:
        # One statement on a connection of its own, committed by itself (see StatementWriter).
        return inbox.accept_many(self._inbox_store, deliveries, self.clock())

    def _dispatch_stored(self, ids: Sequence[UUID]) -> None:
        self.dispatcher.apply_inbox_batch(ids)
        database.checkpoint_if_large(self.engine)

    def _hand_off(self, ids: list[UUID | None]) -> None:
        assert self._handoff is not None
        self._handoff.put([row_id for row_id in ids if row_id is not None])

    def close(self) -> None:
        """Hand over what was accepted and not yet queued (on shutdown)."""
        if self._handoff is not None:
            self._handoff.close()
        self._inbox_store.close()

    def _dispatch_accepted(self, ids: list[UUID | None]) -> None:
        # After the requests are answered. If this hand-over is lost (a crash right here, or
        # the queue is down), the sweeper finds the pending rows.
        fresh = [row_id for row_id in ids if row_id is not None]
        if fresh:
            self.dispatcher.apply_inbox_batch(fresh)

    def run_apply(self, row_id: UUID) -> inbox.Applied | None:
        try:
            applied = self.applier.apply(row_id, self.clock())
        except IntegrityError:
            # Another worker created the same person (or fact) a moment ago; the second try
            # finds it and applies on top. A second collision goes to the queue's retry.
            log.info("inbox %s collided with a concurrent apply; retrying once", row_id)
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
            # A retry_at of now means core changed while the push ran: go again at once.
            at = None if result.retry_at <= self.clock() else result.retry_at
            self.dispatcher.push(row_id, at=at)
        return result

    # -- healing -------------------------------------------------------------------------------

    def sweep(self) -> tuple[int, int]:
        """Hand out again what was lost: stale pending deliveries and due pushes."""
        now = self.clock()
        with self.unit_of_work() as uow:
            stale = inbox.stale_pending(uow.connection, now, INBOX_GRACE)
            due = outbox.due_rows(uow.connection, now, INBOX_GRACE)
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

    def apply_inbox_batch(self, row_ids: Sequence[UUID]) -> None:
        for row_id in row_ids:
            self.apply_inbox(row_id)

    def push(self, row_id: UUID, at: datetime | None = None) -> None:
        assert self.engine is not None
        if at is None:
            self.engine.run_push(row_id)
        else:
            self.deferred.append((row_id, at))
