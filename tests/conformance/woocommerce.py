"""The conformance harness for WooCommerce: the REST API simulator, the /wc-auth key exchange.

Store-side changes go through the simulator's control API over HTTP, which fires the hooks
WooCommerce would (a shopper in My Account, staff in wp-admin, a consent plugin writing meta).
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from patronkit.adapters.woocommerce.simulator import (
    CHANNELS,
    WooCommerceSimulator,
    consent_value,
    meta_key,
    read_consent,
    running_simulator,
)
from patronkit.adapters.woocommerce.simulator.state import Customer
from patronkit.core.domain.consent import Channel, ConsentState, OptInLevel
from tests.conformance.harness import (
    PlatformHarness,
    StoreConsent,
    StoreCustomer,
    StoreOrder,
    StoreSpec,
    WebhookTally,
)
from tests.conformance.redirects import follow

_APPROVE_LINK = re.compile(r'id="approve" href="([^"]+)"')
# Consents a previous version of the storefront plugin left in the store before install:
# (state, level, share of customers).
SEEDED_CONSENTS = (
    ("subscribed", "confirmed", 0.15),
    ("subscribed", "single", 0.15),
    ("unsubscribed", "single", 0.15),
    ("pending", "confirmed", 0.05),
    ("not_subscribed", "unknown", 0.05),
)
SEEDED_SMS_SHARE = 0.2
SEEDED_BEFORE = datetime(2025, 6, 1, tzinfo=UTC)


def store_consent(value: Any) -> StoreConsent | None:
    """A consent meta value in core's terms (None: no entry)."""
    if not isinstance(value, Mapping):
        return None
    return StoreConsent(ConsentState(value["state"]), OptInLevel(value["level"]))


def store_customer(customer: Customer) -> StoreCustomer:
    """As WooCommerce reports the person: account fields, else the billing address's."""
    consent = read_consent([(m.key, m.value) for m in customer.meta])
    return StoreCustomer(
        remote_id=str(customer.id),
        email=customer.email or customer.billing.get("email") or None,
        phone=customer.billing.get("phone") or None,
        first_name=customer.first_name or customer.billing.get("first_name") or None,
        last_name=customer.last_name or customer.billing.get("last_name") or None,
        consents={Channel(name): store_consent(consent[name]) for name in CHANNELS},
    )


class WooCommerceHarness(PlatformHarness):
    platform = "woocommerce"

    def __init__(self, sim: WooCommerceSimulator) -> None:
        self.sim = sim
        self.control = f"{sim.url}/_simulator"
        self.http = requests.Session()

    @classmethod
    @contextmanager
    def running(cls, spec: StoreSpec) -> Iterator[WooCommerceHarness]:
        with running_simulator(
            customers=spec.customers,
            orders=spec.orders,
            seed=spec.seed,
            callback_requires_https=False,  # our app listens on plain http on loopback
        ) as sim:
            harness = cls(sim)
            harness.seed_consents(random.Random(spec.seed))
            try:
                yield harness
            finally:
                harness.http.close()

    def seed_consents(self, rng: random.Random) -> None:
        """Give a share of customers consents, written before anyone listened (no hooks)."""
        for index, remote_id in enumerate(self.customer_ids()):
            when = SEEDED_BEFORE - timedelta(hours=index + 1)
            roll = rng.random()
            for state, level, share in SEEDED_CONSENTS:
                if roll < share:
                    self._write_meta(remote_id, "email", consent_value(state, level, when))
                    break
                roll -= share
            if rng.random() < SEEDED_SMS_SHARE:
                self._write_meta(remote_id, "sms", consent_value("subscribed", "single", when))

    def _write_meta(self, remote_id: str, channel: str, value: dict[str, Any]) -> None:
        self.sim.store.customers.set_meta(
            int(remote_id), meta_key(channel), value, via="update_user_meta"
        )

    def app_settings(self) -> dict[str, str]:
        # Any WooCommerce setting turns the platform on; the store URL comes with the install.
        return {"PATRONKIT_WOOCOMMERCE_APP_NAME": "patronkit"}

    # -- install ---------------------------------------------------------------------------

    def shop_address(self) -> str:
        return self.sim.url

    def connection_domain(self) -> str:
        return self.sim.url  # already the canonical site URL: scheme, host and port

    def approve_install(self, browser: requests.Session, begin_url: str, app_url: str) -> None:
        """/wc-auth: our begin → the store's grant page → the merchant clicks Approve, the
        store POSTs the keys to our callback server to server, then sends the browser back
        to our callback → our admin."""
        authorize = follow(browser, begin_url, f"{self.sim.url}/wc-auth/v1/authorize")
        page = browser.get(authorize, timeout=30)
        found = _APPROVE_LINK.search(page.text)
        if page.status_code != 200 or found is None:
            raise AssertionError(f"no grant page: HTTP {page.status_code} {page.text[:300]!r}")
        landing = follow(browser, html.unescape(found.group(1)), f"{app_url}/install/woocommerce")
        follow(browser, landing, f"{app_url}/admin")

    # -- acting in the store -----------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, f"{self.control}{path}", json=body, timeout=30)
        if response.status_code >= 300:
            raise AssertionError(f"{method} {path}: HTTP {response.status_code} {response.text}")
        return response.json()

    def customer_ids(self) -> list[str]:
        with self.sim.state.lock:
            return [
                str(c.id)
                for c in sorted(self.sim.state.customers.values(), key=lambda c: c.id)
                if c.role == "customer"
            ]

    def channels(self, remote_id: str) -> tuple[Channel, ...]:
        return tuple(Channel(name) for name in CHANNELS)  # meta holds any channel

    def create_customer(self, email: str, first_name: str, last_name: str) -> str:
        body = {"email": email, "first_name": first_name, "last_name": last_name}
        return str(self._call("POST", "/customers", body)["id"])

    def edit_profile(self, remote_id: str, *, first_name: str) -> None:
        self._call("PATCH", f"/customers/{remote_id}", {"first_name": first_name})

    def set_consent(
        self,
        remote_id: str,
        channel: Channel,
        state: ConsentState,
        level: OptInLevel,
        *,
        notify: bool = True,
    ) -> None:
        # notify: the storefront plugin saves the customer (customer.updated fires);
        # otherwise a plain update_user_meta(): no hook, date_modified untouched.
        body = {
            "channel": channel.value,
            "state": state.value,
            "level": level.value,
            "via": "wc_customer" if notify else "update_user_meta",
        }
        self._call("POST", f"/customers/{remote_id}/consent", body)

    def delete_customer(self, remote_id: str) -> None:
        self._call("DELETE", f"/customers/{remote_id}")

    def place_order(self, remote_id: str | None, *, email: str | None = None) -> str:
        body = {"customer_id": int(remote_id or 0), "email": email, "paid": True, "total": "42.50"}
        return str(self._call("POST", "/orders", body)["id"])

    @contextmanager
    def webhooks_paused(self) -> Iterator[None]:
        """Staff pauses our webhooks in WooCommerce → Settings → Advanced → Webhooks."""
        with self.sim.state.lock:
            paused = [w for w in self.sim.state.webhooks.values() if w.status == "active"]
            for webhook in paused:
                webhook.status = "paused"
        try:
            yield
        finally:
            with self.sim.state.lock:
                for webhook in paused:
                    webhook.status = "active"

    # -- reading the store -----------------------------------------------------------------

    def snapshot(self) -> dict[str, StoreCustomer]:
        """Every WordPress user: WooCommerce's customer webhooks fire for any of them."""
        with self.sim.state.lock:
            return {str(c.id): store_customer(c) for c in self.sim.state.customers.values()}

    def orders(self) -> dict[str, StoreOrder]:
        with self.sim.state.lock:
            return {
                str(o.id): StoreOrder(
                    str(o.id),
                    str(o.customer_id) if o.customer_id else None,
                    o.billing.get("email") or None,
                )
                for o in self.sim.state.orders.values()
            }

    def consent(self, remote_id: str, channel: Channel) -> StoreConsent | None:
        return store_consent(self.sim.consent_of(int(remote_id))[channel.value])

    # -- delivery and faults -----------------------------------------------------------------

    def configure_webhooks(
        self,
        *,
        duplicate_rate: float,
        reorder_window_seconds: float,
        seed: int,
        delay_seconds: float = 0.0,
    ) -> None:
        self.sim.configure_webhooks(
            duplicate_rate=duplicate_rate,
            reorder_window_seconds=reorder_window_seconds,
            seed=seed,
            delay_seconds=delay_seconds,
        )

    def webhooks_idle(self, timeout: float) -> bool:
        return self.sim.wait_for_webhooks(timeout=timeout)

    def webhook_tally(self) -> WebhookTally:
        late = newest = events = duplicates = 0
        for record in self.sim.deliveries():
            if not record.ok or record.action_seq is None:
                continue  # failed attempts and pings carry no event
            if record.kind == "duplicate":
                duplicates += 1
            elif record.kind == "delivery":
                events += 1
                late += record.action_seq < newest
                newest = max(newest, record.action_seq)
        return WebhookTally(events, duplicates, late)

    def inject_throttling(self, count: int, retry_after: float) -> None:
        self.sim.inject_faults(429, count=count, retry_after=retry_after)

    def inject_server_errors(self, status: int, count: int) -> None:
        self.sim.inject_faults(status, count=count)

    def faults_served(self) -> dict[int, int]:
        served: dict[str, int] = self.sim.stats()["api"]["faults_served"]
        return {int(status): count for status, count in served.items()}

    def limit_violations(self) -> dict[str, int]:
        violations: dict[str, int] = self.sim.stats()["api"]["violations"]
        return violations
