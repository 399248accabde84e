"""Webhook delivery as WC_Webhook and wc-webhook-functions.php do it.

- A change fires WordPress hooks; every *active* webhook whose topic listens to them
  processes the resource id, at most once per webhook and id within one request.
- At the end of the request each is queued as an Action Scheduler action and delivered
  in the background, later. While an identical action (same webhook, same resource id) is
  still pending, no second one is queued: the comment in wc_webhook_execute_queue() says
  "only schedule one webhook every 10 minutes", but the code skips scheduling only while a
  *pending* duplicate exists (its date is never 10 minutes ahead), so in effect changes
  coalesce until the queue runner picks the action up, not for 10 minutes.
- The payload is built when the action runs, from the resource as it is then (the REST
  API's view of it; {"id": N} for deleted events), so coalesced changes arrive as one.
- The status is checked when the hook fires, not when the action runs: actions already
  queued go out even if the webhook was paused or disabled in between.
- The body is trim(wp_json_encode($payload)), signed with base64 HMAC-SHA256 of exactly
  those bytes. X-WC-Webhook-Delivery-ID is wp_hash(webhook id . current second), so two
  deliveries of one webhook in the same second share it: it is no dedupe key.
- Success is an HTTP status 200-302 (redirects are not followed). Each failure increments
  failure_count; a failure when the count is already above 5 (the 7th in a row) sets the
  status to "disabled" instead. There are no automatic retries.

The chaos settings (delay, reordering, duplicates, redelivery) are a test tool's extras,
not WooCommerce behaviour; with their defaults the simulator behaves like the store.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from . import outbound
from .formats import php_json
from .state import StoreState, Webhook

log = logging.getLogger(__name__)

MAX_CONSECUTIVE_FAILURES = 5  # woocommerce_max_webhook_delivery_failures


def sign(body: bytes, secret: str) -> str:
    """X-WC-Webhook-Signature: base64 of HMAC-SHA256 over the raw body bytes."""
    return base64.b64encode(
        hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    ).decode()


def delivery_id(salt: str, webhook_id: int, now: float | None = None) -> str:
    """wp_hash( id . strtotime('now') ): HMAC-MD5 with the site's salt, per second."""
    second = int(time.time() if now is None else now)
    message = f"{webhook_id}{second}".encode()
    return hmac.new(salt.encode("utf-8"), message, hashlib.md5).hexdigest()


@dataclass
class DeliverySettings:
    timeout_seconds: float = 60.0  # MINUTE_IN_SECONDS
    ping_timeout_seconds: float = 5.0  # wp_safe_remote_post()'s default
    delay_seconds: float = 0.0  # queue-runner latency before an action runs
    reorder_window_seconds: float = 0.0  # extra random hold per action, so actions overtake
    duplicate_rate: float = 0.0  # chance a successful delivery is sent again
    seed: int = 0

    def update(self, values: dict[str, Any]) -> None:
        for key, raw in values.items():
            if not hasattr(self, key):
                raise ValueError(f"unknown webhook setting {key!r}")
            setattr(self, key, int(raw) if key == "seed" else float(raw))


@dataclass
class SiteIdentity:
    home_url: str
    wc_version: str
    wp_version: str
    salt: str
    block_unsafe_urls: bool

    @property
    def user_agent(self) -> str:
        return f"WooCommerce/{self.wc_version} Hookshot (WordPress/{self.wp_version})"


@dataclass
class DeliveryRecord:
    """One HTTP request sent, for tests and stats (no payload, no secret)."""

    seq: int
    kind: str  # "delivery", "ping", "duplicate" or "redelivery"
    webhook_id: int
    topic: str
    resource_id: int | None
    delivery_id: str | None
    url: str
    status: int | None
    ok: bool
    error: str | None
    at: float
    disabled_webhook: bool = False
    # The order in which the action was queued (None for pings): deliveries whose action_seq
    # is lower than one already sent were overtaken (reordering made visible to tests).
    action_seq: int | None = None


@dataclass(order=True)
class _Action:
    due: float
    seq: int
    webhook_id: int = field(compare=False)
    arg: int = field(compare=False)
    kind: str = field(default="delivery", compare=False)


@dataclass
class DeliveryStats:
    processed: int = 0
    coalesced: int = 0
    queued: int = 0
    attempts: int = 0
    successes: int = 0
    failures: int = 0
    pings: int = 0
    duplicates_sent: int = 0
    redeliveries: int = 0
    webhooks_disabled: int = 0


PayloadBuilder = Callable[[str, str, int], Any]


class WebhookDispatcher:
    """Hook processing, the Action Scheduler queue and the delivering worker threads."""

    def __init__(
        self,
        state: StoreState,
        build_payload: PayloadBuilder,
        site: Callable[[], SiteIdentity],
        *,
        settings: DeliverySettings | None = None,
        workers: int = 1,
        history_size: int = 10_000,
    ) -> None:
        self.state = state
        self.build_payload = build_payload
        self.site = site
        self.settings = settings or DeliverySettings()
        self._rng = random.Random(self.settings.seed)  # noqa: S311 - chaos, not security
        self._queue: list[_Action] = []
        self._pending_keys: set[tuple[int, int]] = set()
        self._seq = itertools.count(1)
        self._record_seq = itertools.count(1)
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._stats = DeliveryStats()
        self._scope = threading.local()
        self.history: deque[DeliveryRecord] = deque(maxlen=history_size)
        # Action Scheduler runs one queue runner by default: actions go out one at a time.
        self._threads = [
            threading.Thread(target=self._work, name=f"wc-sim-webhooks-{n}", daemon=True)
            for n in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    # -- hooks firing ----------------------------------------------------------------

    @contextmanager
    def request_scope(self) -> Iterator[None]:
        """One PHP request: deduplicate per webhook and id, queue everything at shutdown."""
        outer: list[tuple[int, int]] | None = getattr(self._scope, "pending", None)
        if outer is not None:
            yield
            return
        pending: list[tuple[int, int]] = []
        self._scope.pending = pending
        try:
            yield
        finally:
            self._scope.pending = None
            self._schedule(pending)

    def fire(self, resource: str, event: str, arg: int) -> None:
        """A hook for `resource`.`event` ran with the resource id as its first argument."""
        topic = f"{resource}.{event}"
        with self.state.lock:
            matching = [
                w.id
                for w in self.state.webhooks.values()
                if w.status == "active" and w.topic == topic
            ]
        pending: list[tuple[int, int]] | None = getattr(self._scope, "pending", None)
        targets = [(webhook_id, arg) for webhook_id in matching]
        if pending is None:
            self._schedule(targets)
            return
        for target in targets:
            if target not in pending:  # WC_Webhook::is_already_processed()
                pending.append(target)

    def _schedule(self, targets: list[tuple[int, int]]) -> None:
        if not targets:
            return
        now = time.monotonic()
        with self._cond:
            for webhook_id, arg in targets:
                self._stats.processed += 1
                if (webhook_id, arg) in self._pending_keys:
                    self._stats.coalesced += 1
                    continue
                self._push(webhook_id, arg, "delivery", now)
            self._cond.notify_all()

    def _push(self, webhook_id: int, arg: int, kind: str, now: float) -> None:
        hold = self.settings.delay_seconds
        if self.settings.reorder_window_seconds > 0:
            hold += self._rng.uniform(0, self.settings.reorder_window_seconds)
        heapq.heappush(self._queue, _Action(now + hold, next(self._seq), webhook_id, arg, kind))
        if kind == "delivery":
            self._pending_keys.add((webhook_id, arg))
        self._stats.queued += 1

    # -- control -----------------------------------------------------------------------

    def configure(self, values: dict[str, Any]) -> None:
        with self._cond:
            self.settings.update(values)
            if "seed" in values:
                self._rng.seed(self.settings.seed)

    def redeliver(self, seq: int) -> bool:
        """Send the action behind a recorded delivery again (a test tool's extra)."""
        with self._cond:
            record = next((r for r in self.history if r.seq == seq), None)
            if record is None or record.resource_id is None:
                return False
            self._push(record.webhook_id, record.resource_id, "redelivery", time.monotonic())
            self._cond.notify_all()
            return True

    def clear_queue(self) -> None:
        with self._cond:
            self._queue.clear()
            self._pending_keys.clear()

    # -- observing ---------------------------------------------------------------------

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

    def records(self) -> list[DeliveryRecord]:
        with self._cond:
            return list(self.history)

    def wait_idle(self, timeout: float = 10.0) -> bool:
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
            thread.join(timeout=2)

    # -- the ping ------------------------------------------------------------------------

    def ping(self, webhook: Webhook) -> bool:
        """WC_Webhook::deliver_ping(): form body, no X-WC headers, success only on 200."""
        site = self.site()
        result = outbound.post(
            webhook.delivery_url,
            f"webhook_id={webhook.id}".encode(),
            {
                "User-Agent": site.user_agent,
                "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
            },
            timeout=self.settings.ping_timeout_seconds,
            follow_redirects=True,
            home_url=site.home_url,
            block_unsafe_urls=site.block_unsafe_urls,
        )
        ok = result.status == 200
        with self._cond:
            self._stats.pings += 1
            self._record("ping", webhook=webhook, arg=None, hook_id=None, result=result, ok=ok)
        if ok:
            with self.state.lock:
                webhook.pending_delivery = False
        return ok

    # -- delivering ----------------------------------------------------------------------

    def _next_due(self) -> _Action | None:
        with self._cond:
            while not self._stopping:
                if self._queue:
                    wait = self._queue[0].due - time.monotonic()
                    if wait <= 0:
                        action = heapq.heappop(self._queue)
                        # Running, no longer pending: a new change queues a new action.
                        self._pending_keys.discard((action.webhook_id, action.arg))
                        self._in_flight += 1
                        return action
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _work(self) -> None:
        while True:
            action = self._next_due()
            if action is None:
                return
            try:
                self._deliver(action)
            except Exception:
                log.exception("webhook %s: delivery crashed", action.webhook_id)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _deliver(self, action: _Action) -> None:
        with self.state.lock:
            webhook = self.state.webhooks.get(action.webhook_id)
            if webhook is None:
                return  # deleted meanwhile: WooCommerce would fail to load it
            resource, event, url, secret = (
                webhook.resource,
                webhook.event,
                webhook.delivery_url,
                webhook.secret,
            )
            payload = self.build_payload(resource, event, action.arg)
        site = self.site()
        body = php_json(payload).strip().encode("utf-8")
        hook_id = delivery_id(site.salt, webhook.id)
        headers = {
            "User-Agent": site.user_agent,
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": site.home_url.rstrip("/") + "/",
            "X-WC-Webhook-Topic": webhook.topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign(body, secret),
            "X-WC-Webhook-ID": str(webhook.id),
            "X-WC-Webhook-Delivery-ID": hook_id,
        }
        result = outbound.post(
            url,
            body,
            headers,
            timeout=self.settings.timeout_seconds,
            follow_redirects=False,
            home_url=site.home_url,
            block_unsafe_urls=site.block_unsafe_urls,
        )
        ok = 200 <= result.code < 303
        disabled = self._count_result(webhook, ok)
        with self._cond:
            self._stats.attempts += 1
            if action.kind == "duplicate":
                self._stats.duplicates_sent += 1
            elif action.kind == "redelivery":
                self._stats.redeliveries += 1
            if ok:
                self._stats.successes += 1
            else:
                self._stats.failures += 1
            if disabled:
                self._stats.webhooks_disabled += 1
            record = self._record(
                action.kind, webhook=webhook, arg=action.arg, hook_id=hook_id, result=result, ok=ok
            )
            record.disabled_webhook = disabled
            record.action_seq = action.seq
            if (
                ok
                and action.kind == "delivery"
                and self._rng.random() < self.settings.duplicate_rate
            ):
                self._push(webhook.id, action.arg, "duplicate", time.monotonic())
                self._cond.notify_all()
        if not ok:
            log.info("webhook %s: delivery failed (%s)", webhook.id, result.status or result.error)

    def _count_result(self, webhook: Webhook, ok: bool) -> bool:
        """log_delivery() / failed_delivery(): returns True if this failure disabled it."""
        with self.state.lock:
            if webhook.id not in self.state.webhooks:
                return False
            if ok:
                webhook.failure_count = 0
                return False
            if webhook.failure_count > MAX_CONSECUTIVE_FAILURES:
                was_active = webhook.status != "disabled"
                webhook.status = "disabled"
                return was_active
            webhook.failure_count += 1
            return False

    def _record(
        self,
        kind: str,
        *,
        webhook: Webhook,
        arg: int | None,
        hook_id: str | None,
        result: outbound.OutboundResult,
        ok: bool,
    ) -> DeliveryRecord:
        record = DeliveryRecord(
            seq=next(self._record_seq),
            kind=kind,
            webhook_id=webhook.id,
            topic=webhook.topic,
            resource_id=arg,
            delivery_id=hook_id,
            url=webhook.delivery_url,
            status=result.status,
            ok=ok,
            error=result.error,
            at=time.time(),
        )
        self.history.append(record)
        return record
