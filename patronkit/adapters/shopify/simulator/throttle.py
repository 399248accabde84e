"""GraphQL Admin API rate limiting: a leaky bucket of cost points per app and shop.

A query may run only if its requested cost fits in what is currently available; the
requested cost is taken up front and the unused part (requested - actual) given back
after execution. The bucket refills continuously at `restore_rate` points per second.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

MAX_SINGLE_QUERY_COST = 1000

# (maximum available, restore rate per second). Plan figures from Shopify's rate-limit
# page; "hard" is a deliberately tiny bucket for exercising client back-off.
THROTTLE_PRESETS: dict[str, tuple[float, float]] = {
    "standard": (2000.0, 100.0),
    "advanced": (4000.0, 200.0),
    "plus": (20000.0, 1000.0),
    "enterprise": (40000.0, 2000.0),
    "legacy": (1000.0, 50.0),
    "hard": (50.0, 10.0),
}


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    def as_extension(self) -> dict[str, Any]:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": int(self.currently_available),
            "restoreRate": self.restore_rate,
        }


class LeakyBucket:
    def __init__(self, maximum_available: float, restore_rate: float) -> None:
        self._lock = threading.Lock()
        self._maximum = maximum_available
        self._rate = restore_rate
        self._available = maximum_available
        self._updated = time.monotonic()

    @classmethod
    def from_preset(cls, name: str) -> LeakyBucket:
        maximum, rate = THROTTLE_PRESETS[name]
        return cls(maximum, rate)

    def configure(self, maximum_available: float, restore_rate: float) -> None:
        """New limits; the bucket starts full, as after a plan change."""
        with self._lock:
            self._maximum = maximum_available
            self._rate = restore_rate
            self._available = maximum_available
            self._updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self._available = min(self._maximum, self._available + (now - self._updated) * self._rate)
        self._updated = now

    def try_take(self, cost: int) -> bool:
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def give_back(self, points: int) -> None:
        with self._lock:
            self._refill()
            self._available = min(self._maximum, self._available + points)

    def status(self) -> ThrottleStatus:
        with self._lock:
            self._refill()
            return ThrottleStatus(self._maximum, self._available, self._rate)
