"""Injected HTTP faults and request counters for the Admin API.

A request arriving while a served 429's Retry-After has not yet passed is a limit violation,
unless it arrived within RACE_ALLOWANCE_SECONDS of the 429: a client with several requests in
flight cannot recall those it sent before the answer came.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from patronkit.adapters.simulation import FaultInjector as SharedFaultInjector

FAULT_STATUSES = (429, 500, 502, 503)


class FaultInjector(SharedFaultInjector):
    def __init__(self) -> None:
        super().__init__(FAULT_STATUSES)


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
            # Requests made while told to wait: throttled by the bucket, or within a
            # served Retry-After.
            "limit_violations": counts.get("throttled", 0) + counts.get("retry_after_ignored", 0),
            "retry_after_ignored": counts.get("retry_after_ignored", 0),
            "max_cost_exceeded": counts.get("max_cost_exceeded", 0),
            "points_spent": counts.get("points_spent", 0),
        }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
