"""Injected HTTP faults and request counters for the Admin API."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

FAULT_STATUSES = (429, 500, 502, 503)


@dataclass
class Fault:
    status: int
    retry_after: float = 2.0


class FaultInjector:
    """Answers the next N Admin API requests with a chosen failure instead of the real one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: deque[Fault] = deque()

    def plan(self, status: int, count: int = 1, retry_after: float = 2.0) -> None:
        if status not in FAULT_STATUSES:
            raise ValueError(f"fault status must be one of {FAULT_STATUSES}")
        with self._lock:
            self._planned.extend(Fault(status, retry_after) for _ in range(count))

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()

    def take(self) -> Fault | None:
        with self._lock:
            return self._planned.popleft() if self._planned else None

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._planned)


class RequestStats:
    """Thread-safe counters: requests by kind, faults served, limit violations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
        faults = {
            key.removeprefix("fault_"): value
            for key, value in counts.items()
            if key.startswith("fault_")
        }
        return {
            "requests": counts.get("requests", 0),
            "graphql_requests": counts.get("graphql_requests", 0),
            "oauth_requests": counts.get("oauth_requests", 0),
            "unauthorized": counts.get("unauthorized", 0),
            "faults_served": faults,
            "limit_violations": counts.get("throttled", 0),
            "max_cost_exceeded": counts.get("max_cost_exceeded", 0),
            "points_spent": counts.get("points_spent", 0),
        }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
