"""Group commit for the inbox: many webhook requests, one transaction.

Each accepted webhook must be stored durably before it is acknowledged. Doing that one
transaction per request makes every request wait for its own commit (and, on SQLite, for the
single writer lock). Instead requests queue their items, and whichever request thread finds
no write in progress becomes the leader: it writes everything queued so far (its own item
included) in one transaction, answers the others, and then does the after-work. No request
is answered before its item is committed, and no extra thread is involved ("flat combining":
a hand-off to a dedicated writer thread cost more than the write).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 256
WAIT_SECONDS = 30.0


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
        self._pending: list[tuple[Item, Future[Result]]] = []
        self._writing = False
        self._changed = threading.Condition()

    def submit(self, item: Item) -> Result:
        """Queue one item and return once the batch holding it is written."""
        future: Future[Result] = Future()
        with self._changed:
            self._pending.append((item, future))
        while not future.done():
            with self._changed:
                while self._writing and not future.done():
                    if not self._changed.wait(WAIT_SECONDS):
                        raise TimeoutError(f"{self._name}: no write finished in time")
                if future.done():
                    break
                self._writing = True
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
            self._lead(batch)
        return future.result()

    def _lead(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        results: list[Result] | None = None
        try:
            results = self._write([item for item, _ in batch])
        except BaseException as exc:  # every caller of the batch gets the error, none hangs
            log.warning("%s: write of %d failed: %s", self._name, len(batch), type(exc).__name__)
            for _, future in batch:
                future.set_exception(exc)
        else:
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
        finally:
            with self._changed:
                self._writing = False
                self._changed.notify_all()
        if results is not None and self._after is not None:
            try:
                self._after(results)
            except Exception as exc:
                log.warning("%s: after-work failed: %s", self._name, type(exc).__name__)
