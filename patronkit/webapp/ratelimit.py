"""Rate limits: token buckets keyed by a string (an IP address, a shop).

    limiter = TokenBuckets(capacity=20, refill_per_second=0.5)
    wait = limiter.take("ip:203.0.113.7")   # None: go ahead; else seconds until a token

This in-memory implementation is the embedded default: one process, its buckets in a dict
(bounded; idle buckets are dropped first). In scaled mode (several web processes behind a
load balancer) each process would hold its own buckets, multiplying the limit by the number
of processes; a shared limiter needs the same `take` backed by the shared store — e.g. Redis
with a small Lua script doing this refill-and-take atomically per key (or INCR/EXPIRE windows),
keys expiring after capacity / refill seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    def take(self, key: str, cost: float = 1.0) -> float | None:
        """Spend `cost` tokens of `key`'s bucket: None if allowed, else seconds to wait."""


class TokenBuckets:
    MAX_KEYS = 50_000

    def __init__(
        self,
        capacity: float,
        refill_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity <= 0 or refill_per_second <= 0:
            raise ValueError("capacity and refill rate must be positive")
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> float | None:
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.refill_per_second)
            allowed = tokens >= cost
            if allowed:
                tokens -= cost
            self._buckets[key] = (tokens, now)  # most recently used last
            while len(self._buckets) > self.MAX_KEYS:
                self._buckets.popitem(last=False)
        if allowed:
            return None
        return (cost - tokens) / self.refill_per_second


def retry_after_header(wait_seconds: float) -> str:
    """Retry-After takes whole seconds; round up so that retrying then succeeds."""
    return str(max(1, math.ceil(wait_seconds)))
