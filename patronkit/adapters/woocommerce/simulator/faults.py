"""Injected HTTP faults and request counters for the REST API.

WooCommerce core has no rate limit, but hosts, CDNs and security plugins in front of a
store answer 429 (with Retry-After) or 5xx bursts; the body is then an HTML page from
the host, not WordPress JSON. A request arriving before a served Retry-After has passed
is counted as a violation, unless it arrived within RACE_ALLOWANCE_SECONDS of the 429: a
client with several requests in flight cannot recall those it sent before the answer came.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from patronkit.adapters.simulation import FaultInjector as SharedFaultInjector

FAULT_STATUSES = (429, 500, 502, 503, 504)


class FaultInjector(SharedFaultInjector):
    def __init__(self) -> None:
        super().__init__(FAULT_STATUSES)


VIOLATIONS = (
    "retry_after_ignored",
    "per_page_out_of_bounds",
    "batch_too_large",
    "nonce_replayed",
    "timestamp_out_of_window",
)


class RequestStats:
    """Thread-safe counters: requests, auth failures by code, faults, violations."""

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

        def prefixed(prefix: str) -> dict[str, int]:
            return {k.removeprefix(prefix): v for k, v in counts.items() if k.startswith(prefix)}

        return {
            "requests": counts.get("requests", 0),
            "rest_requests": counts.get("rest_requests", 0),
            "auth_failures": sum(prefixed("auth_failure:").values()),
            "auth_failures_by_reason": prefixed("auth_failure:"),
            "faults_served": prefixed("fault:"),
            "violations": {name: counts.get(f"violation:{name}", 0) for name in VIOLATIONS},
            "by_route": prefixed("route:"),
        }

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
