"""Injected HTTP faults and request counters for the REST API.

WooCommerce core has no rate limit, but hosts, CDNs and security plugins in front of a
store answer 429 (with Retry-After) or 5xx bursts; the body is then an HTML page from
the host, not WordPress JSON. A request arriving before a served Retry-After has passed
is counted as a violation, unless it arrived within RACE_ALLOWANCE_SECONDS of the 429: a
client with several requests in flight cannot recall those it sent before the answer came.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

FAULT_STATUSES = (429, 500, 502, 503, 504)
# Longer than a loopback round trip plus a busy client's reaction, far shorter than any
# Retry-After: an immediate retry that ignores the header is still caught on its next try.
RACE_ALLOWANCE_SECONDS = 0.05


@dataclass
class Fault:
    status: int
    retry_after: float = 2.0


class FaultInjector:
    """Answers the next N REST requests with a chosen failure instead of the real answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: deque[Fault] = deque()
        self._blocked_from = 0.0
        self._blocked_until = 0.0

    def plan(self, status: int, count: int = 1, retry_after: float = 2.0) -> None:
        if status not in FAULT_STATUSES:
            raise ValueError(f"fault status must be one of {FAULT_STATUSES}")
        with self._lock:
            self._planned.extend(Fault(status, retry_after) for _ in range(count))

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()
            self._blocked_from = self._blocked_until = 0.0

    def take(self) -> tuple[Fault | None, bool]:
        """The fault to serve (if any), and whether the request ignored a Retry-After."""
        with self._lock:
            now = time.monotonic()
            ignored = self._blocked_from <= now < self._blocked_until
            fault = self._planned.popleft() if self._planned else None
            if fault is not None and fault.status == 429:
                self._blocked_from = now + RACE_ALLOWANCE_SECONDS
                self._blocked_until = now + fault.retry_after
            return fault, ignored

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._planned)


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
