"""Webhook delivery: signing, retries on a compressed schedule, and optional chaos.

Mirrors Shopify's contract: each event gets one X-Shopify-Event-Id; each subscription
gets its own delivery with its own X-Shopify-Webhook-Id, kept across retries. A delivery
fails on a non-2xx answer, a connection error or a 5 s timeout, and is retried 8 times
(over 4 hours for real; over a configurable, much shorter schedule here). Delivery is
at-least-once and unordered, which the chaos settings make visible on demand.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import http.client
import itertools
import random
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .formats import iso, now_utc, shopify_json_bytes

# GraphQL WebhookSubscriptionTopic <-> REST topic names used in X-Shopify-Topic.
SUBSCRIBABLE_TOPICS: dict[str, str] = {
    "CUSTOMERS_CREATE": "customers/create",
    "CUSTOMERS_UPDATE": "customers/update",
    "CUSTOMERS_DELETE": "customers/delete",
    "CUSTOMERS_EMAIL_MARKETING_CONSENT_UPDATE": "customers_email_marketing_consent/update",
    "CUSTOMERS_MARKETING_CONSENT_UPDATE": "customers_marketing_consent/update",
    "ORDERS_CREATE": "orders/create",
    "ORDERS_UPDATED": "orders/updated",
    "ORDERS_PAID": "orders/paid",
    "ORDERS_FULFILLED": "orders/fulfilled",
    "ORDERS_CANCELLED": "orders/cancelled",
    "REFUNDS_CREATE": "refunds/create",
    "APP_UNINSTALLED": "app/uninstalled",
}
# Mandatory compliance topics are configured in the app's settings, not via the API.
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")

REAL_RETRY_COUNT = 8
# Real Shopify spreads 8 retries over 4 hours; this keeps the doubling shape in ~2.5 s.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 0.64, 0.64)


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body bytes."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass
class DeliverySettings:
    timeout_seconds: float = 5.0
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS
    duplicate_rate: float = 0.0  # chance a delivered webhook is sent a second time
    reorder_window_seconds: float = 0.0  # random hold per delivery, so events overtake
    delay_seconds: float = 0.0  # fixed latency before the first attempt
    seed: int = 0

    def update(self, values: dict[str, Any]) -> None:
        for key, raw in values.items():
            if not hasattr(self, key):
                raise ValueError(f"unknown webhook setting {key!r}")
            value: object
            if key == "retry_delays":
                value = tuple(float(v) for v in raw)
            elif key == "seed":
                value = int(raw)
            else:
                value = float(raw)
            setattr(self, key, value)


@dataclass
class DeliveryRecord:
    """One HTTP attempt, kept for tests and the stats endpoint (no payloads, no secrets)."""

    topic: str
    event_id: str
    webhook_id: str
    url: str
    attempt: int
    status: int | None
    ok: bool
    duplicate: bool
    at: float


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    topic: str = field(compare=False)
    url: str = field(compare=False)
    body: bytes = field(compare=False)
    event_id: str = field(compare=False)
    webhook_id: str = field(compare=False)
    triggered_at: str = field(compare=False)
    attempt: int = field(default=0, compare=False)
    duplicate: bool = field(default=False, compare=False)


@dataclass
class DeliveryStats:
    events: int = 0
    attempts: int = 0
    successes: int = 0
    failures: int = 0
    retries: int = 0
    duplicates_sent: int = 0
    given_up: int = 0


class WebhookDispatcher:
    """Queue plus worker threads that POST signed webhooks to subscribers."""

    def __init__(
        self,
        shop_domain: str,
        client_secret: str,
        api_version: str,
        *,
        settings: DeliverySettings | None = None,
        workers: int = 4,
        history_size: int = 10_000,
    ) -> None:
        self.shop_domain = shop_domain
        self.client_secret = client_secret
        self.api_version = api_version
        self.settings = settings or DeliverySettings()
        self._rng = random.Random(self.settings.seed)  # noqa: S311 - chaos, not security
        self._queue: list[_Delivery] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._stats = DeliveryStats()
        self.history: deque[DeliveryRecord] = deque(maxlen=history_size)
        self._threads = [
            threading.Thread(target=self._work, name=f"sim-webhooks-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    # -- producing -------------------------------------------------------------------

    def publish(self, topic: str, payload: dict[str, Any], urls: list[str]) -> str:
        """Queue one event for every subscribed URL; returns its X-Shopify-Event-Id."""
        event_id = str(uuid.uuid4())
        body = shopify_json_bytes(payload)
        triggered_at = iso(now_utc()) or ""
        now = time.monotonic()
        with self._cond:
            self._stats.events += 1
            for url in urls:
                hold = self.settings.delay_seconds
                if self.settings.reorder_window_seconds > 0:
                    hold += self._rng.uniform(0, self.settings.reorder_window_seconds)
                delivery = _Delivery(
                    due=now + hold,
                    seq=next(self._seq),
                    topic=topic,
                    url=url,
                    body=body,
                    event_id=event_id,
                    webhook_id=str(uuid.uuid4()),
                    triggered_at=triggered_at,
                )
                heapq.heappush(self._queue, delivery)
            self._cond.notify_all()
        return event_id

    def configure(self, values: dict[str, Any]) -> None:
        """Change delivery settings (chaos, schedule) at run time."""
        with self._cond:
            self.settings.update(values)
            if "seed" in values:
                self._rng.seed(self.settings.seed)

    # -- observing -------------------------------------------------------------------

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def stats(self) -> dict[str, Any]:
        with self._cond:
            result = asdict(self._stats)
            result["pending"] = len(self._queue) + self._in_flight
            result["settings"] = asdict(self.settings)
            return result

    def reset_stats(self) -> None:
        with self._cond:
            self._stats = DeliveryStats()
            self.history.clear()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight; False if the timeout passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.settings.timeout_seconds + 1)

    # -- delivering ------------------------------------------------------------------

    def _next_due(self) -> _Delivery | None:
        with self._cond:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0].due - time.monotonic()
                    if wait <= 0:
                        self._in_flight += 1
                        return heapq.heappop(self._queue)
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _work(self) -> None:
        while True:
            delivery = self._next_due()
            if delivery is None:
                return
            try:
                self._attempt(delivery)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _attempt(self, delivery: _Delivery) -> None:
        status = self._post(delivery)
        ok = status is not None and 200 <= status < 300
        with self._cond:
            self._stats.attempts += 1
            if delivery.duplicate:
                self._stats.duplicates_sent += 1
            if delivery.attempt > 0:
                self._stats.retries += 1
            self.history.append(
                DeliveryRecord(
                    topic=delivery.topic,
                    event_id=delivery.event_id,
                    webhook_id=delivery.webhook_id,
                    url=delivery.url,
                    attempt=delivery.attempt + 1,
                    status=status,
                    ok=ok,
                    duplicate=delivery.duplicate,
                    at=time.time(),
                )
            )
            if ok:
                self._stats.successes += 1
                if not delivery.duplicate and self._rng.random() < self.settings.duplicate_rate:
                    self._queue_duplicate(delivery)
                return
            self._stats.failures += 1
            if delivery.attempt >= len(self.settings.retry_delays):
                self._stats.given_up += 1
                return
            delay = self.settings.retry_delays[delivery.attempt]
            delivery.attempt += 1
            delivery.due = time.monotonic() + delay
            delivery.seq = next(self._seq)
            heapq.heappush(self._queue, delivery)
            self._cond.notify_all()

    def _queue_duplicate(self, original: _Delivery) -> None:
        # Same event, fresh delivery: only X-Shopify-Event-Id reveals it as a duplicate.
        copy = _Delivery(
            due=time.monotonic() + self._rng.uniform(0, 0.05),
            seq=next(self._seq),
            topic=original.topic,
            url=original.url,
            body=original.body,
            event_id=original.event_id,
            webhook_id=str(uuid.uuid4()),
            triggered_at=original.triggered_at,
            duplicate=True,
        )
        heapq.heappush(self._queue, copy)
        self._cond.notify_all()

    def _headers(self, delivery: _Delivery) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(delivery.body, self.client_secret),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
            "X-Shopify-Event-Id": delivery.event_id,
        }

    def _post(self, delivery: _Delivery) -> int | None:
        """HTTP status of one attempt, or None on a connection error or timeout."""
        parts = urlsplit(delivery.url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        connection = connection_class(
            parts.hostname or "", parts.port, timeout=self.settings.timeout_seconds
        )
        try:
            connection.request("POST", path, body=delivery.body, headers=self._headers(delivery))
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
