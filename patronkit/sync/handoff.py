"""Hand stored deliveries to the job queue from one thread, many batches per job.

Every group commit used to enqueue its own job: under load that was a second transaction
(on the SQLite queue, a second database file's write lock) for every one or two webhooks,
paid by a request thread. Here the committing thread only appends ids to a list; one
dispatcher thread takes everything gathered since its last round and enqueues it as one job.
Rounds are at least MIN_INTERVAL apart: an idle system hands a delivery over at once, a busy
one gathers many per job and pays the queue's write a few dozen times a second at most.

Losing ids here (a crash between commit and enqueue) loses no delivery: they are pending in
the inbox table, and the sweeper hands them out again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")

MAX_PER_JOB = 256
MIN_INTERVAL_SECONDS = 0.02
STOP_WAIT_SECONDS = 5.0


class Handoff(Generic[Item]):
    def __init__(
        self,
        dispatch: Callable[[Sequence[Item]], None],
        name: str,
        min_interval: float = MIN_INTERVAL_SECONDS,
    ) -> None:
        self._dispatch = dispatch
        self._min_interval = min_interval
        self._name = name
        self._items: list[Item] = []
        self._busy = False
        self._stopping = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def put(self, items: Sequence[Item]) -> None:
        if not items:
            return
        with self._changed:
            if self._thread is None:
                # Started on first use, so that merely building the engine (CLI commands,
                # tests) starts no thread.
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._items.extend(items)
            self._changed.notify_all()

    def flush(self, timeout: float = STOP_WAIT_SECONDS) -> bool:
        """Wait until everything put so far is dispatched; False if that took too long."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._items and not self._busy, timeout)

    def close(self) -> None:
        self.flush()
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(STOP_WAIT_SECONDS)

    def _run(self) -> None:
        last = -self._min_interval
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._items or self._stopping)
                if not self._items:
                    return
                self._busy = True
            rest = last + self._min_interval - time.monotonic()
            if rest > 0 and not self._stopping:
                time.sleep(rest)  # busy: let this round gather more
            last = time.monotonic()
            with self._changed:
                taken = self._items[:MAX_PER_JOB]
                del self._items[:MAX_PER_JOB]
            try:
                self._dispatch(taken)
            except Exception as exc:
                # The queue is down or full: the rows stay pending and the sweeper retries.
                log.warning(
                    "%s: hand-off of %d failed: %s", self._name, len(taken), type(exc).__name__
                )
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
