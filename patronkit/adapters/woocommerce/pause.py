"""A store's "wait until", shared by every request to that store in this process.

When a store (or the host or CDN in front of it) answers 429 or 503 with Retry-After, it is
telling the caller to stop, not only the one request that heard it: the sync workers pushing
to the same store in other threads must wait too, or they call while told to wait. Each
gateway keeps one `StorePause` per store and hands it to every client it builds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class StorePause:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._until = float("-inf")
        self._generation = 0  # bumped by every hold, so a request can tell its own apart

    def hold(self, seconds: float) -> int:
        """No request to the store before `seconds` from now; the hold's generation."""
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)
            self._generation += 1
            return self._generation

    def wait_time(self, slept_through: int) -> tuple[float, int]:
        """(seconds left to wait, the latest hold's generation). ``slept_through``: the
        latest hold the caller has already waited out in full (0: none); unless a request
        held again since, there is nothing left for it to wait."""
        with self._lock:
            if slept_through == self._generation:
                return 0.0, self._generation
            return max(0.0, self._until - self._clock()), self._generation


class StorePauses:
    """One pause per store, keyed by its site URL."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pauses: dict[str, StorePause] = {}

    def get(self, site_url: str) -> StorePause:
        with self._lock:
            pause = self._pauses.get(site_url)
            if pause is None:
                pause = self._pauses[site_url] = StorePause()
            return pause
