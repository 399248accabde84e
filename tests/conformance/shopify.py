"""The conformance harness for Shopify: the GraphQL Admin API simulator, OAuth install."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import requests

from patronkit.adapters.shopify.simulator import ShopifySimulator, running_simulator
from patronkit.adapters.shopify.simulator.actions import CustomerFields
from patronkit.adapters.shopify.simulator.state import Customer, EmailConsent, SmsConsent
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

SCOPES = "read_customers,write_customers,read_orders,read_discounts,write_discounts"

SIM_STATE = {
    "SUBSCRIBED": ConsentState.SUBSCRIBED,
    "UNSUBSCRIBED": ConsentState.UNSUBSCRIBED,
    "PENDING": ConsentState.PENDING,
    "NOT_SUBSCRIBED": ConsentState.NOT_SUBSCRIBED,
    "REDACTED": ConsentState.UNSUBSCRIBED,
}
SIM_LEVEL = {
    "SINGLE_OPT_IN": OptInLevel.SINGLE,
    "CONFIRMED_OPT_IN": OptInLevel.CONFIRMED,
    "UNKNOWN": OptInLevel.UNKNOWN,
    None: OptInLevel.UNKNOWN,
}
CORE_STATE = {
    ConsentState.SUBSCRIBED: "SUBSCRIBED",
    ConsentState.UNSUBSCRIBED: "UNSUBSCRIBED",
    ConsentState.PENDING: "PENDING",
    ConsentState.NOT_SUBSCRIBED: "NOT_SUBSCRIBED",
}
CORE_LEVEL = {
    OptInLevel.SINGLE: "SINGLE_OPT_IN",
    OptInLevel.CONFIRMED: "CONFIRMED_OPT_IN",
    OptInLevel.UNKNOWN: "UNKNOWN",
}


def store_consent(consent: EmailConsent | SmsConsent) -> StoreConsent | None:
    """A Shopify consent in core's terms; None for a customer never asked (the default
    NOT_SUBSCRIBED, with no time)."""
    state = SIM_STATE[consent.marketing_state]
    if consent.consent_updated_at is None and state is ConsentState.NOT_SUBSCRIBED:
        return None
    return StoreConsent(state, SIM_LEVEL[consent.opt_in_level])


def store_customer(customer: Customer) -> StoreCustomer:
    consents: dict[Channel, StoreConsent | None] = {}
    if customer.email:
        consents[Channel.EMAIL] = store_consent(customer.email_consent)
    if customer.sms_consent is not None:
        consents[Channel.SMS] = store_consent(customer.sms_consent)
    return StoreCustomer(
        remote_id=str(customer.id),
        email=customer.email,
        phone=customer.phone,
        first_name=customer.first_name,
        last_name=customer.last_name,
        consents=consents,
    )


class ShopifyHarness(PlatformHarness):
    platform = "shopify"

    def __init__(self, sim: ShopifySimulator) -> None:
        self.sim = sim
        self.emitted: list[str] = []  # event ids in the order the shop emitted them

    @classmethod
    @contextmanager
    def running(cls, spec: StoreSpec) -> Iterator[ShopifyHarness]:
        with running_simulator(
            customers=spec.customers,
            orders=spec.orders,
            seed=spec.seed,
            bulk_duration_seconds=0.2,
            # Shopify sends the privacy topics to the URLs in the app's configuration.
            compliance_webhook_url=f"{spec.app_url}/webhooks/shopify",
        ) as sim:
            harness = cls(sim)
            harness.record_emissions()
            yield harness

    def record_emissions(self) -> None:
        """Keep the emission order, to tell which deliveries overtook which."""
        emit = self.sim.actions.emit

        def recording(topic: str, payload: dict[str, Any]) -> str | None:
            event_id = emit(topic, payload)
            if event_id:
                self.emitted.append(event_id)  # emit runs under the shop's lock
            return event_id

        self.sim.actions.emit = recording  # type: ignore[method-assign]

    def app_settings(self) -> dict[str, str]:
        return {
            "PATRONKIT_SHOPIFY_CLIENT_ID": self.sim.client_id,
            "PATRONKIT_SHOPIFY_CLIENT_SECRET": self.sim.client_secret,
            "PATRONKIT_SHOPIFY_SCOPES": SCOPES,
            "PATRONKIT_SHOPIFY_API_BASE_OVERRIDE": f"{self.sim.shop_domain}={self.sim.url}",
        }

    # -- install ---------------------------------------------------------------------------

    def shop_address(self) -> str:
        return self.sim.shop_domain

    def connection_domain(self) -> str:
        return self.sim.shop_domain

    def approve_install(self, browser: requests.Session, begin_url: str, app_url: str) -> None:
        """OAuth code grant: our begin → the shop's authorize page (the merchant is logged in
        and approves at once) → our callback, carrying our state cookie → our admin."""
        authorize = follow(browser, begin_url, f"{self.sim.url}/admin/oauth/authorize")
        callback = follow(browser, authorize, f"{app_url}/install/shopify/callback")
        follow(browser, callback, f"{app_url}/admin")

    # -- acting in the store -----------------------------------------------------------------

    def customer_ids(self) -> list[str]:
        with self.sim.state.lock:
            return [str(i) for i in sorted(self.sim.state.customers)]

    def channels(self, remote_id: str) -> tuple[Channel, ...]:
        with self.sim.state.lock:
            customer = self.sim.state.customers[int(remote_id)]
            return tuple(
                channel
                for channel, present in (
                    (Channel.EMAIL, customer.email),
                    (Channel.SMS, customer.sms_consent),
                )
                if present
            )

    def create_customer(self, email: str, first_name: str, last_name: str) -> str:
        fields = CustomerFields(email=email, first_name=first_name, last_name=last_name)
        return str(self.sim.actions.create_customer(fields).id)

    def edit_profile(self, remote_id: str, *, first_name: str) -> None:
        self.sim.actions.update_customer(int(remote_id), CustomerFields(first_name=first_name))

    def set_consent(
        self,
        remote_id: str,
        channel: Channel,
        state: ConsentState,
        level: OptInLevel,
        *,
        notify: bool = True,
    ) -> None:
        if not notify:
            with self.webhooks_paused():
                self.set_consent(remote_id, channel, state, level)
            return
        # The merchant in the Shopify admin, who may set any state.
        setter = {
            Channel.EMAIL: self.sim.actions.set_email_consent,
            Channel.SMS: self.sim.actions.set_sms_consent,
        }[channel]
        setter(int(remote_id), CORE_STATE[state], CORE_LEVEL[level], from_admin=True)

    def delete_customer(self, remote_id: str) -> None:
        self.sim.actions.delete_customer(int(remote_id))

    def place_order(self, remote_id: str | None, *, email: str | None = None) -> str:
        order = self.sim.actions.create_order(
            int(remote_id) if remote_id else None, Decimal("42.50"), paid=True, email=email
        )
        return str(order.id)

    @contextmanager
    def webhooks_paused(self) -> Iterator[None]:
        """As if Shopify had given up on these deliveries: nobody is subscribed meanwhile."""
        with self.sim.state.lock:
            subscriptions = dict(self.sim.state.webhook_subscriptions)
            self.sim.state.webhook_subscriptions.clear()
        try:
            yield
        finally:
            with self.sim.state.lock:
                self.sim.state.webhook_subscriptions.update(subscriptions)

    # -- reading the store -----------------------------------------------------------------

    def snapshot(self) -> dict[str, StoreCustomer]:
        with self.sim.state.lock:
            return {str(c.id): store_customer(c) for c in self.sim.state.customers.values()}

    def orders(self) -> dict[str, StoreOrder]:
        with self.sim.state.lock:
            return {
                str(o.id): StoreOrder(
                    str(o.id), str(o.customer_id) if o.customer_id else None, o.email
                )
                for o in self.sim.state.orders.values()
            }

    def consent(self, remote_id: str, channel: Channel) -> StoreConsent | None:
        with self.sim.state.lock:
            return store_customer(self.sim.state.customers[int(remote_id)]).consents.get(channel)

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
        with self.sim.state.lock:
            order = {event_id: index for index, event_id in enumerate(self.emitted)}
        seen: set[str] = set()
        late = newest = events = duplicates = 0
        for record in list(self.sim.shop.dispatcher.history):
            if record.event_id not in order or not record.ok:
                continue
            if record.event_id in seen:
                duplicates += 1
                continue
            seen.add(record.event_id)
            events += 1
            index = order[record.event_id]
            late += index < newest
            newest = max(newest, index)
        return WebhookTally(events, duplicates, late)

    def inject_throttling(self, count: int, retry_after: float) -> None:
        self.sim.inject_faults(429, count=count, retry_after=retry_after)

    def inject_server_errors(self, status: int, count: int) -> None:
        self.sim.inject_faults(status, count=count)

    def faults_served(self) -> dict[int, int]:
        served: dict[str, int] = self.sim.stats()["api"]["faults_served"]
        return {int(status): count for status, count in served.items()}

    def limit_violations(self) -> dict[str, int]:
        api = self.sim.stats()["api"]
        ignored: int = api["retry_after_ignored"]
        return {"throttled": api["limit_violations"] - ignored, "retry_after_ignored": ignored}
