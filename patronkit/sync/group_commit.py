"""Group commit for the inbox: many webhook requests, one transaction.

Each accepted webhook must be stored durably before it is acknowledged. Doing that one
transaction per request makes every request wait for its own commit (and, on SQLite, for the
single writer lock). Instead, request threads hand their delivery to one writer thread, which
stores everything that has gathered in one transaction and then answers each request. A
request is still only answered after its delivery is committed.
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
    """Runs `write(batch) -> results` on one thread for whatever callers have submitted."""

    def __init__(
        self,
        write: Callable[[Sequence[Item]], list[Result]],
        name: str,
        after: Callable[[list[Result]], None] | None = None,
    ) -> None:
        """`after(results)` runs once the callers are answered (work they need not wait for)."""
        self._write = write
        self._after = after
        self._name = name
        self._pending: list[tuple[Item, Future[Result]]] = []
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, item: Item) -> Result:
        """Hand one item over and wait until the batch holding it is written."""
        future: Future[Result] = Future()
        with self._wakeup:
            self._pending.append((item, future))
            self._start()
            self._wakeup.notify()
        return future.result(timeout=WAIT_SECONDS)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._pending:
                    self._wakeup.wait()
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
            items = [item for item, _ in batch]
            try:
                results = self._write(items)
            except BaseException as exc:  # every waiting request gets the error, none hangs
                log.warning("group commit of %d failed: %s", len(items), type(exc).__name__)
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
            if self._after is not None:
                try:
                    self._after(results)
                except Exception as exc:
                    log.warning("after group commit: %s", type(exc).__name__)
