"""Group commit for the inbox: many webhook requests, one transaction.

Each accepted webhook must be stored durably before it is acknowledged. Doing that one
transaction per request makes every request wait for its own commit (and, on SQLite, for the
single writer lock). Instead requests queue their items, and one request thread at a time is
the leader: it writes everything queued so far (its own item included) in one transaction,
answers the others, hands the leadership to the oldest waiting request if any, and then does
the after-work. No request is answered before its item is committed, and no extra thread is
involved ("flat combining": a hand-off to a dedicated writer thread cost more than the write).

Each waiting request sleeps on its own lock and is woken exactly once, to be answered or to
lead: waking every waiter after every batch cost more, under load, than the batches saved.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 256
WAIT_SECONDS = 30.0


class _Slot:
    """One request's place in the queue, and the lock it sleeps on (released to wake it)."""

    __slots__ = ("done", "error", "item", "lead", "result", "wake")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.done = False  # answered
        self.lead = False  # chosen to lead the next batch (set under the committer's mutex)
        self.result: Any = None
        self.error: BaseException | None = None
        self.wake = threading.Lock()
        self.wake.acquire()


class GroupCommitter(Generic[Item, Result]):
    def __init__(
        self,
        write: Callable[[Sequence[Item]], list[Result]],
        name: str,
        after: Callable[[list[Result]], None] | None = None,
    ) -> None:
        """`write(items) -> results` stores a batch; `after(results)` runs once its callers
        are answered (work they need not wait for)."""
        self._write = write
        self._name = name
        self._after = after
        self._pending: list[_Slot] = []
        self._leading = False
        self._mutex = threading.Lock()

    def submit(self, item: Item) -> Result:
        """Queue one item and return once the batch holding it is written."""
        slot = _Slot(item)
        with self._mutex:
            self._pending.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead:
            if not slot.wake.acquire(timeout=WAIT_SECONDS):
                self._give_up(slot)
            if slot.done:
                return self._answer(slot)
        # Leading: this slot is the oldest pending, so it is in the batch taken now.
        self._lead()
        return self._answer(slot)

    def _lead(self) -> None:
        with self._mutex:
            batch = self._pending[:MAX_BATCH]
            del self._pending[:MAX_BATCH]
        results: list[Result] | None = None
        try:
            results = self._write([slot.item for slot in batch])
        except BaseException as exc:  # every caller of the batch gets the error, none hangs
            log.warning("%s: write of %d failed: %s", self._name, len(batch), type(exc).__name__)
            for slot in batch:
                slot.error = exc
        else:
            for slot, result in zip(batch, results, strict=True):
                slot.result = result
        for slot in batch:
            slot.done = True
        with self._mutex:
            successor = self._pending[0] if self._pending else None
            self._leading = successor is not None
            if successor is not None:
                successor.lead = True
        if successor is not None:
            successor.wake.release()  # not done: it leads the next batch
        # Every slot's lock is held (since creation, or again since its owner was woken to
        # lead): releasing wakes the waiters and is harmless for the leader's own slot.
        for slot in batch:
            slot.wake.release()
        if results is not None and self._after is not None:
            try:
                self._after(results)
            except Exception as exc:
                log.warning("%s: after-work failed: %s", self._name, type(exc).__name__)

    def _give_up(self, slot: _Slot) -> None:
        """No write finished in time: leave the queue. If our item is already in a batch
        being written, or the leadership was handed to us, its wake-up is coming: wait for it
        (dropping a handed leadership would stall every later caller)."""
        with self._mutex:
            queued = not slot.lead and slot in self._pending
            if queued:
                self._pending.remove(slot)
        if not queued:
            slot.wake.acquire()
            return
        raise TimeoutError(f"{self._name}: no write finished in time")

    def _answer(self, slot: _Slot) -> Result:
        if slot.error is not None:
            raise slot.error
        result: Result = slot.result
        return result
